"""Plain text, Markdown and HTML: decoded to text (UTF-8 first, legacy encodings by
detection), split at Markdown headings, HTML reduced to its visible text; the local images a
page shows are taken with it."""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, TooLarge

from .base import (
    BEFORE,
    BEFORE_CHARS,
    Limits,
    Loaded,
    Picture,
    kind_of,
    looks_like_rst,
    markdown_sections,
    picture,
    rst_sections,
)


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
        self.before: dict[str, str] = {}  # an image's src: the visible text just before it
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "img" and not self._skip:
            src = dict(attrs).get("src")
            if src and src not in self.before:
                self.before[src] = " ".join("".join(self.parts[-40:]).split())[-BEFORE_CHARS:]
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
    shown_after = _html_before(text) if kind == "html" else {}
    for m in pattern.finditer(text):
        ref = m.group(1)
        before = (shown_after.get(ref, "") if kind == "html" else
                  " ".join(text[max(0, m.start() - 4 * BEFORE_CHARS):m.start()].split()))
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
            meta = {items.REF: ref, **({BEFORE: before[-BEFORE_CHARS:]} if before else {})}
            pictures.append(picture(path.read_bytes(), limits, meta))
        except (InvalidInput, TooLarge) as e:
            notes.append(f"image reference {ref!r}: {e}")
    return pictures, notes


def _html_before(html: str) -> dict[str, str]:
    p = _HTMLText()
    p.feed(html)
    p.close()
    return p.before


def _page_images(kind: str, text: str, base: Path | None,
                 limits: Limits) -> tuple[list[Picture], list[str]]:
    return local_images(kind, text, base, limits) if base is not None else ([], [])


def load_text(data: bytes, limits: Limits, *, name: str = "", base: Path | None = None) -> Loaded:
    text, _ = decode_text(data, limits.max_chars)
    if looks_like_rst(text):  # Sphinx documentation: keep its section titles as context
        return Loaded("text", parts=rst_sections(text))
    return Loaded("text", parts=[(text, {})])


def load_markdown(data: bytes, limits: Limits, *, name: str = "",
                  base: Path | None = None) -> Loaded:
    text, _ = decode_text(data, limits.max_chars)
    pictures, notes = _page_images("markdown", text, base, limits)
    return Loaded("markdown", parts=markdown_sections(text), pictures=pictures, notes=notes)


def load_html(data: bytes, limits: Limits, *, name: str = "", base: Path | None = None) -> Loaded:
    html, _ = decode_text(data, limits.max_chars)
    pictures, notes = _page_images("html", html, base, limits)
    text, title = html_to_text(html)
    if not text and not pictures:
        raise InvalidInput("the HTML page has no visible text")
    return Loaded("html", parts=[(text, {})] if text else [], pictures=pictures, title=title,
                  notes=notes)
