"""PDF files: text with its page number, and the images inside.

Text comes from pypdf. A scanned page is a picture of text: its image is taken like any other
(and OCR'd); a page with neither text nor images (vector drawings) is rendered with pypdfium2
and goes in as an image, so OCR and CLIP see it. An embedded image that cannot be decoded is
left out with a note; the rest of the document goes on."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, TooLarge

from .base import Limits, Loaded, Picture, add_picture, check_text_total, finish, stage

log = logging.getLogger(__name__)
RENDER_SCALE = 2.0  # 144 dpi: enough for OCR of ordinary print
MIN_RENDER_SCALE = 0.5  # below 36 dpi nothing can be read: such a page is left out


def load_pdf(data: bytes, limits: Limits, *, name: str = "", base: Path | None = None) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput("encrypted PDF: it needs a password; save an unprotected copy")
        pages = list(reader.pages)
    except InvalidInput:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as e:
        raise InvalidInput(f"corrupt or truncated PDF: {e}") from e
    except Exception as e:  # pypdf raises assorted errors on broken files
        if "crypt" in str(e).lower():
            raise InvalidInput(f"encrypted PDF that cannot be opened: {e}") from e
        raise InvalidInput(f"cannot read the PDF: {type(e).__name__}: {e}") from e
    if len(pages) > limits.max_pages:
        raise TooLarge(f"{len(pages)} pages, over the limit of {limits.max_pages} "
                       "(MMRAG_INGEST__MAX_PAGES)")
    out = Loaded("pdf")
    skipped: list[str] = []
    scanned: list[int] = []
    for number, page in enumerate(pages, 1):
        stage(f"reading page {number} of {len(pages)}")
        try:
            text = page.extract_text() or ""
        except Exception as e:  # a broken content stream spoils one page, not the file
            log.warning("page %d: %s", number, e)
            text = ""
        if text.strip():
            out.parts.append((text, {items.PAGE: number}))
            check_text_total(out.parts, limits.max_chars)
        try:
            images = list(page.images)
        except Exception as e:
            skipped.append(f"page {number}: {e}")
            images = []
        for img in images:
            add_picture(out, img.data, limits, {items.PAGE: number}, skipped)
        if not text.strip() and not images:  # drawn, not written: render it
            scanned.append(number)
    if scanned:
        _render(data, scanned, out, limits, skipped)
    return finish(out, skipped)


def _render(data: bytes, numbers: list[int], out: Loaded, limits: Limits,
            skipped: list[str]) -> None:
    """Pages without a text layer become images (a scan is a picture of text)."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except Exception as e:
        skipped.append(f"cannot render scanned pages: {e}")
        return
    rendered = blank = 0
    try:
        for number in numbers:
            if len(out.pictures) >= limits.max_images:
                skipped.append("over the image limit")
                break
            if rendered >= limits.max_rendered_pages:
                out.notes.append(f"{len(numbers) - rendered - blank} page(s) without text not "
                                 f"rendered: over the limit of {limits.max_rendered_pages} "
                                 "(MMRAG_INGEST__MAX_RENDERED_PAGES)")
                break
            stage(f"rendering page {number}")
            page = doc[number - 1]
            if _blank(page):
                blank += 1
                continue
            w_pt, h_pt = page.get_size()
            scale = min(RENDER_SCALE, (limits.max_pixels / max(1.0, w_pt * h_pt)) ** 0.5)
            if scale < MIN_RENDER_SCALE:
                skipped.append(f"page {number} is {w_pt:.0f}x{h_pt:.0f} pt: too large to "
                               f"render within {limits.max_pixels:,} pixels "
                               "(MMRAG_INGEST__MAX_IMAGE_PIXELS)")
                continue
            img = page.render(scale=scale).to_pil().convert("RGB")
            rendered += 1
            if _uniform(img):
                blank += 1  # drawn, but nothing to see (a white rectangle, say)
                continue
            buf = io.BytesIO()
            img.save(buf, "PNG")
            w, h = img.size
            img.info["original_size"] = (w, h)
            out.pictures.append(Picture(img, ".png", buf.getvalue(),
                                        {items.WIDTH: w, items.HEIGHT: h, items.PAGE: number,
                                         items.SCANNED: True}))
    finally:
        doc.close()
    if blank:
        out.notes.append(f"{blank} blank page(s) left out")


def render_page(data: bytes, number: int, max_pixels: int) -> bytes:
    """Page ``number`` (from 1) as PNG bytes, at most ``max_pixels`` in all."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except Exception as e:
        raise InvalidInput(f"cannot open the PDF: {e}") from e
    try:
        if not 1 <= number <= len(doc):
            raise InvalidInput(f"the PDF has no page {number}")
        page = doc[number - 1]
        w_pt, h_pt = page.get_size()
        scale = min(RENDER_SCALE, (max_pixels / max(1.0, w_pt * h_pt)) ** 0.5)
        img = page.render(scale=scale).to_pil().convert("RGB")
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return buf.getvalue()
    finally:
        doc.close()


def _blank(page: Any) -> bool:
    """A page with no objects at all has nothing to render (checked without rendering)."""
    import pypdfium2.raw as pdfium_c

    return int(pdfium_c.FPDFPage_CountObjects(page.raw)) == 0


def _uniform(img: Any) -> bool:
    """One colour all over (after rendering): nothing to read or see."""
    return all(lo == hi for lo, hi in img.getextrema())
