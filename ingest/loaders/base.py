"""What every loader shares: the result types, the limits a file is decoded within, and the
stage reports that let a stopped decoder say where it was. No loader imports another; each
imports this."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rag import items
from rag.errors import InvalidInput, TooLarge
from rag.images import decode_image
from rag.sections import IngestSettings

# A file's kind comes from its extension; each kind has one loader (the registry in
# ``ingest.loaders``).
EXTENSIONS = {".txt": "text", ".text": "text", ".rst": "text", ".md": "markdown",
              ".markdown": "markdown",
              ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx",
              **dict.fromkeys((".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"),
                              "image"),
              **dict.fromkeys((".mp4", ".webm", ".mov", ".mkv", ".avi"), "video")}


def kind_of(name: str) -> str | None:
    """'text', 'markdown', 'html', 'pdf', 'docx', 'pptx', 'image', 'video' or None
    (unsupported)."""
    return EXTENSIONS.get(Path(name).suffix.lower())


# on a picture a page shows: the page's text just before it (how much, in characters), so
# that the passage showing it can be told (ingest/prepare.py); not stored
BEFORE = "_before"
BEFORE_CHARS = 80


@dataclass
class Picture:
    """An image to store: decoded for the models, and the bytes to keep as its copy."""

    image: Any  # RGB PIL image
    ext: str
    data: bytes
    meta: dict[str, Any] = field(default_factory=dict)  # width, height, page or slide
    ocr_text: str | None = None  # the text read in it, when the decoder ran OCR


@dataclass
class Loaded:
    kind: str
    parts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # text + location
    pictures: list[Picture] = field(default_factory=list)
    title: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Limits:
    max_chars: int
    max_pixels: int
    max_pages: int = 2000
    max_images: int = 200
    image_target: int | None = None  # decode JPEGs at this scale (no OCR needs the detail)
    video_every_s: float = 10.0
    video_scene_threshold: float = 0.5
    max_inflated_bytes: int = 256 * 1024 * 1024  # all entries of a zip-based file, unpacked
    max_xml_bytes: int = 32 * 1024 * 1024  # one XML part of a zip-based file, unpacked
    max_rendered_pages: int = 100  # PDF pages rendered to pictures for lack of text
    max_zip_ratio: float = 100.0  # unpacked / packed size of one large zip entry

    @classmethod
    def of(cls, cfg: IngestSettings, image_target: int | None = None) -> Limits:
        return cls(cfg.max_text_chars, cfg.max_image_pixels, cfg.max_pages,
                   cfg.max_images_per_document, image_target, cfg.video_every_seconds,
                   cfg.video_scene_threshold, cfg.max_inflated_bytes, cfg.max_xml_bytes,
                   cfg.max_rendered_pages, cfg.max_zip_ratio)


_report: Callable[[str], None] | None = None


def report_stage(fn: Callable[[str], None] | None) -> None:
    """Where ``stage`` reports to (the decoder process sends it to the server)."""
    global _report
    _report = fn


def stage(where: str) -> None:
    """Say what decoding is doing now ("rendering page 3"), so that a file that is stopped
    for its memory or time budget can be reported with the place."""
    if _report is not None:
        _report(where)


def check_text_total(parts: list[tuple[str, dict[str, Any]]], max_chars: int) -> None:
    """Total extracted text of a file, checked as parts are added."""
    total = sum(len(t) for t, _ in parts)
    if total > max_chars:
        raise TooLarge(f"over {max_chars:,} characters of extracted text "
                       "(MMRAG_INGEST__MAX_TEXT_CHARS)")


def picture(data: bytes, limits: Limits, meta: dict[str, Any] | None = None) -> Picture:
    img, ext = decode_image(data, limits.max_pixels, limits.image_target)
    w, h = img.info.get("original_size", img.size)
    return Picture(img, ext, data, {items.WIDTH: w, items.HEIGHT: h, **(meta or {})})


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


class _Sections:
    """Sections as a document's headings cut it: each starts with its heading path."""

    def __init__(self) -> None:
        self.out: list[tuple[str, dict[str, Any]]] = []
        self.path: list[tuple[int, str]] = []
        self.body: list[str] = []

    def heading(self, level: int, title: str) -> None:
        self.flush()
        self.path = [(lvl, t) for lvl, t in self.path if lvl < level] + [(level, title)]

    def flush(self) -> None:
        content = "\n".join(self.body).strip()
        if content:
            heading = " > ".join(t for _, t in self.path)
            self.out.append((f"{heading}\n\n{content}" if heading else content,
                             {items.SECTION: heading} if heading else {}))
        self.body.clear()


def markdown_sections(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Split at headings; each section starts with its heading path ("Policy > Booking"), so
    every chunk keeps the context it came from."""
    sections = _Sections()
    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if m:
            sections.heading(len(m.group(1)), m.group(2))
        else:
            sections.body.append(line)
    sections.flush()
    return sections.out


_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+_:.])\1{2,}\s*$")
_RST_ROLE = re.compile(r"``|:[\w:+-]+:`~?|`_{0,2}")


def rst_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, underline index, title) of reStructuredText section titles: a line of
    text with a line of one punctuation character at least as long under it."""
    found = []
    for i in range(len(lines) - 1):
        title, under = lines[i].rstrip(), lines[i + 1].rstrip()
        if (title.strip() and not title[0].isspace() and _UNDERLINE.match(under)
                and len(under) >= len(title) and not _UNDERLINE.match(title)):
            found.append((i, i + 1, title.strip()))
    return found


def looks_like_rst(text: str) -> bool:
    """Plain text with at least two reStructuredText section titles (Sphinx docs are often
    .txt files)."""
    return len(rst_headings(text.splitlines()[:2000])) >= 2


def rst_sections(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Like markdown_sections: each section starts with its heading path. Levels follow the
    order in which underline styles first appear, as in reStructuredText; overlines are
    dropped with their underlines."""
    lines = text.splitlines()
    heads = {i: (u, t) for i, u, t in rst_headings(lines)}
    styles: list[str] = []
    sections = _Sections()
    skip: set[int] = set()
    for i, line in enumerate(lines):
        if i in skip:
            continue
        if i in heads:
            under, title = heads[i]
            rule = lines[under].rstrip()
            over = i > 0 and lines[i - 1].rstrip() == rule
            if over and sections.body and sections.body[-1].rstrip() == rule:
                sections.body.pop()  # the overline was taken for body text
            style = rule.strip()[0] + ("o" if over else "")
            if style not in styles:
                styles.append(style)
            sections.heading(styles.index(style), _RST_ROLE.sub("", title).strip())
            skip.add(under)
            continue
        sections.body.append(line)
    sections.flush()
    return sections.out


class Loader(Protocol):
    """One file format family: the bytes of a file in, its text parts and pictures out, or
    InvalidInput / TooLarge naming the problem. ``base`` is the folder a file on disk came
    from (for the images a page refers to); ``name`` is the file's name."""

    def __call__(self, data: bytes, limits: Limits, *, name: str = "",
                 base: Path | None = None) -> Loaded: ...


def add_picture(out: Loaded, data: bytes, limits: Limits, meta: dict[str, Any],
                 skipped: list[str]) -> None:
    """Each distinct image once per document (a logo on every page is one picture)."""
    if any(p.data == data for p in out.pictures):
        return
    if len(out.pictures) >= limits.max_images:
        skipped.append("over the image limit")
        return
    try:
        out.pictures.append(picture(data, limits, meta))
    except (InvalidInput, TooLarge) as e:
        skipped.append(str(e))


def finish(out: Loaded, skipped: list[str]) -> Loaded:
    if skipped:
        out.notes.append(f"{len(skipped)} embedded image(s) left out ({skipped[0]})")
    if not any(t.strip() for t, _ in out.parts) and not out.pictures:
        raise InvalidInput(f"the {out.kind.upper()} file has no text and no images")
    return out
