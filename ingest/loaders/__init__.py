"""Loaders: the bytes of one file in, its text parts and pictures out, or InvalidInput naming
the problem. One module per format family, behind the registry ``LOADERS``; the types they
share live in ``base`` (no loader imports another). Decoding runs in a worker process
(``ingest.worker``), which calls ``load``."""

from __future__ import annotations

from pathlib import Path

from rag.errors import InvalidInput

from .base import EXTENSIONS, Limits, Loaded, Loader, Picture, kind_of, report_stage, stage
from .image import load_image
from .office import load_docx, load_pptx
from .pdf import load_pdf
from .text import load_html, load_markdown, load_text
from .video import load_video

LOADERS: dict[str, Loader] = {
    "text": load_text, "markdown": load_markdown, "html": load_html, "pdf": load_pdf,
    "docx": load_docx, "pptx": load_pptx, "image": load_image, "video": load_video}

__all__ = ["EXTENSIONS", "LOADERS", "Limits", "Loaded", "Loader", "Picture", "kind_of", "load",
           "report_stage", "stage"]


def load(name: str, data: bytes, limits: Limits, base: Path | None = None) -> Loaded:
    """Dispatch on the file's kind. ``base``: the folder a file on disk came from, for the
    images a page refers to."""
    kind = kind_of(name)
    if kind is None:
        raise InvalidInput(f"unsupported file type {Path(name).suffix or '(no extension)'!r}")
    stage(f"decoding the {kind} file")
    return LOADERS[kind](data, limits, name=name, base=base)
