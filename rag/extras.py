"""Optional parts of mmrag come with pip extras; a feature whose extra is missing says, in
one line, which extra to install, instead of failing on an import deep inside."""

from __future__ import annotations

import importlib.util

from rag.errors import MissingExtra

EXTRAS = {
    "replicas": "PostgreSQL and S3-compatible storage, for several replicas",
    "ocr": "reading text in pictures (RapidOCR)",
    "eval": "the evaluation harness's metrics and plots",
    "gpu": "4-bit and 8-bit models on a GPU",
    "multilingual": "the multilingual text model (Chinese, and questions across languages)",
}


def installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def need(extra: str, purpose: str, *modules: str) -> None:
    """MissingExtra naming ``extra`` unless every module is importable."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"{purpose} needs {', '.join(missing)}: pip install "
                           f"'mmrag[{extra}]' ({EXTRAS.get(extra, extra)})")
