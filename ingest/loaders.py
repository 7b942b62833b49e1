"""Loaders: bytes of one file in, text or an image out, or InvalidInput naming the problem."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rag.errors import InvalidInput, TooLarge
from rag.images import decode_image
from rag.settings import IngestSettings

TEXT_EXT = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown",
            ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".webm", ".mov", ".mkv", ".avi"}


def kind_of(name: str) -> str | None:
    """'text', 'markdown', 'html', 'pdf', 'docx', 'pptx', 'image' or None (unsupported)."""
    ext = Path(name).suffix.lower()
    if ext in IMAGE_EXT:
        return "image"
    if ext in VIDEO_EXT:
        return "video"
    return TEXT_EXT.get(ext)


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
    return Picture(img, ext, data, {"width": w, "height": h, **(meta or {})})


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def markdown_sections(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Split at headings; each section starts with its heading path ("Policy > Booking"), so
    every chunk keeps the context it came from."""
    sections: list[tuple[str, dict[str, Any]]] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            heading = " > ".join(t for _, t in path)
            sections.append((f"{heading}\n\n{content}" if heading else content,
                             {"section": heading} if heading else {}))
        body.clear()

    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, m.group(2))]
        else:
            body.append(line)
    flush()
    return sections


def decode_text(data: bytes, max_chars: int) -> tuple[str, str]:
    """(text, encoding). UTF-8 first (with or without BOM), UTF-16 with a BOM, then the best
    guess of charset-normalizer for legacy encodings; binary data is refused."""
    if not data:
        raise InvalidInput("empty file (0 bytes)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, enc = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise InvalidInput(f"broken UTF-16 text: {e}") from e
    else:
        if b"\x00" in data[:65536]:
            raise InvalidInput("binary data, not text (contains NUL bytes)")
        try:
            text, enc = data.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as e:
            from charset_normalizer import from_bytes

            matches = list(from_bytes(data[:1_000_000]))
            if not matches or min(m.chaos for m in matches) > 0.2:
                raise InvalidInput(
                    f"not UTF-8 text ({e.reason} at byte {e.start}) and no other text "
                    "encoding fits; convert the file to UTF-8"
                ) from e
            enc = _pick_encoding(matches)
            text = data.decode(enc, errors="replace")
    if len(text) > max_chars:
        raise TooLarge(f"{len(text):,} characters of text, over the limit of {max_chars:,}")
    if not text.strip():
        raise InvalidInput("no text content (only whitespace)")
    return text, enc


# Detection cannot tell the single-byte Western code pages apart on short texts; among the
# encodings that fit about equally well, prefer the ones enterprise files actually use.
_PREFERRED = ("cp1252", "cp1251", "latin_1", "iso8859_15")


def _pick_encoding(matches: list[Any]) -> str:
    best = min(m.chaos for m in matches)
    fitting = [m.encoding for m in matches if m.chaos <= best + 0.2]
    for enc in _PREFERRED:
        if enc in fitting:
            return enc
    return str(fitting[0])


class _HTMLText(HTMLParser):
    """Visible text of a page, without scripts, styles and navigation boilerplate."""

    SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside",
            "form", "button", "iframe"}
    BLOCK = {"p", "div", "section", "article", "main", "br", "li", "ul", "ol", "table", "tr",
             "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "figcaption", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self.parts.append("\n\n" if tag.startswith("h") or tag == "p" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCK:
            self.parts.append("\n\n" if tag.startswith("h") or tag == "p" else "\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str]:
    """(text, title)."""
    p = _HTMLText()
    p.feed(html)
    p.close()
    lines = [" ".join(line.split()) for line in "".join(p.parts).split("\n")]
    text, blank = [], False
    for line in lines:
        if line:
            text.append(line)
            blank = False
        elif not blank and text:
            text.append("")
            blank = True
    return "\n".join(text).strip(), " ".join("".join(p.title).split())


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.I)
MAX_REF_BYTES = 50 * 1024 * 1024


def local_images(kind: str, text: str, base: Path, limits: Limits) -> tuple[list[Picture],
                                                                           list[str]]:
    """Pictures a Markdown or HTML page shows from files next to it (``![..](img/a.png)``,
    ``<img src="img/a.png">``), linked to the page. Remote and data URLs are left alone."""
    from urllib.parse import unquote, urlparse

    pattern = _MD_IMAGE if kind == "markdown" else _HTML_IMAGE
    pictures: list[Picture] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for ref in pattern.findall(text):
        parsed = urlparse(ref)
        if parsed.scheme or ref.startswith("//"):
            continue
        path = (base / unquote(parsed.path)).resolve()
        if path in seen or len(pictures) >= limits.max_images:
            continue
        seen.add(path)
        if not path.is_file() or kind_of(path.name) != "image":
            notes.append(f"image reference {ref!r} is not a local image file")
            continue
        if path.stat().st_size > MAX_REF_BYTES:
            notes.append(f"image reference {ref!r} is too large")
            continue
        try:
            pictures.append(picture(path.read_bytes(), limits, {"ref": ref}))
        except (InvalidInput, TooLarge) as e:
            notes.append(f"image reference {ref!r}: {e}")
    return pictures, notes


def load(name: str, data: bytes, limits: Limits, base: Path | None = None) -> Loaded:
    """``base``: the folder a file on disk came from, for the images a page refers to."""
    kind = kind_of(name)
    if kind is None:
        raise InvalidInput(f"unsupported file type {Path(name).suffix or '(no extension)'!r}")
    stage(f"decoding the {kind} file")
    if kind == "image":
        return Loaded(kind, pictures=[picture(data, limits)])
    if kind == "video":
        from .video import load_video

        return load_video(data, limits, name, limits.video_every_s, limits.video_scene_threshold)
    if kind in ("pdf", "docx", "pptx"):
        from . import documents

        return documents.LOADERS[kind](data, limits)
    text, _ = decode_text(data, limits.max_chars)
    pictures, notes = (local_images(kind, text, base, limits)
                       if base is not None and kind in ("markdown", "html") else ([], []))
    if kind == "html":
        text, title = html_to_text(text)
        if not text and not pictures:
            raise InvalidInput("the HTML page has no visible text")
        return Loaded(kind, parts=[(text, {})] if text else [], pictures=pictures, title=title,
                      notes=notes)
    if kind == "markdown":
        return Loaded(kind, parts=markdown_sections(text), pictures=pictures, notes=notes)
    return Loaded(kind, parts=[(text, {})])
