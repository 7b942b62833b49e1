"""PDF, Word and PowerPoint files: text with its page or slide number, and the images inside.

PDF text comes from pypdf. A scanned page is a picture of text: its image is taken like any
other (and OCR'd); a page with neither text nor images (vector drawings) is rendered with
pypdfium2 and goes in as an image, so OCR and CLIP see it. An embedded image that cannot be
decoded is left out with a note; the rest of the document goes on."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from rag.errors import InvalidInput, TooLarge

from .loaders import Limits, Loaded, Picture, check_text_total, picture, stage

log = logging.getLogger(__name__)
RENDER_SCALE = 2.0  # 144 dpi: enough for OCR of ordinary print
MIN_RENDER_SCALE = 0.5  # below 36 dpi nothing can be read: such a page is left out
MAX_ZIP_ENTRIES = 10_000
RATIO_FROM_BYTES = 1024 * 1024  # the ratio limit applies to entries that unpack past this
_DTD = (b"<!DOCTYPE", b"<!ENTITY")


def check_package(data: bytes, limits: Limits, what: str) -> None:
    """Zip-based formats (DOCX, PPTX), before any parser sees them: the unpacked size of all
    entries and of each XML part, and no DTD in any XML part (Office files never have one; a
    DTD is how entity-expansion and external-entity attacks start). ``zipfile`` never returns
    more than an entry's declared size (a longer stream fails its CRC), so the declared sizes
    bound what any parser can inflate; the XML parts are read to look for DTDs."""
    import zipfile

    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise InvalidInput(f"not a readable {what} file: {e}") from e
    if len(infos) > MAX_ZIP_ENTRIES:
        raise TooLarge(f"{len(infos):,} entries inside the {what} file, over the limit of "
                       f"{MAX_ZIP_ENTRIES:,}")
    total = sum(i.file_size for i in infos)
    if total > limits.max_inflated_bytes:
        raise TooLarge(f"the {what} file unpacks to {total:,} bytes, over the limit of "
                       f"{limits.max_inflated_bytes:,} (MMRAG_INGEST__MAX_INFLATED_BYTES)")
    for info in infos:
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_FROM_BYTES and ratio > limits.max_zip_ratio:
            raise TooLarge(f"{info.filename} inside the {what} file unpacks {ratio:.0f} times "
                           f"its packed size, over the limit of {limits.max_zip_ratio:g} "
                           "(a zip bomb; MMRAG_INGEST__MAX_ZIP_RATIO)")
    with z:
        for info in infos:
            if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            if info.file_size > limits.max_xml_bytes:
                raise TooLarge(f"{info.filename} inside the {what} file unpacks to "
                               f"{info.file_size:,} bytes, over the limit of "
                               f"{limits.max_xml_bytes:,} (MMRAG_INGEST__MAX_XML_BYTES)")
            stage(f"checking {info.filename}")
            _check_xml(z, info, what)


def _check_xml(z: Any, info: Any, what: str) -> None:
    import zipfile

    tail = b""
    try:
        with z.open(info) as f:
            while block := f.read(1 << 20):
                window = tail + block
                if any(m in window for m in _DTD):
                    raise InvalidInput(f"{info.filename} inside the {what} file declares a "
                                       "DTD or entities, which Office files never do (refused "
                                       "as a possible XML entity attack)")
                if not tail and block[:2] in (b"\xff\xfe", b"\xfe\xff"):
                    raise InvalidInput(f"{info.filename} inside the {what} file is not UTF-8")
                tail = block[-16:]
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as e:
        raise InvalidInput(f"corrupt {what} file ({info.filename}): {e}") from e


def _add_picture(out: Loaded, data: bytes, limits: Limits, meta: dict[str, Any],
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


def _finish(out: Loaded, skipped: list[str]) -> Loaded:
    if skipped:
        out.notes.append(f"{len(skipped)} embedded image(s) left out ({skipped[0]})")
    if not any(t.strip() for t, _ in out.parts) and not out.pictures:
        raise InvalidInput(f"the {out.kind.upper()} file has no text and no images")
    return out


def load_pdf(data: bytes, limits: Limits) -> Loaded:
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
            out.parts.append((text, {"page": number}))
            check_text_total(out.parts, limits.max_chars)
        try:
            images = list(page.images)
        except Exception as e:
            skipped.append(f"page {number}: {e}")
            images = []
        for img in images:
            _add_picture(out, img.data, limits, {"page": number}, skipped)
        if not text.strip() and not images:  # drawn, not written: render it
            scanned.append(number)
    if scanned:
        _render(data, scanned, out, limits, skipped)
    return _finish(out, skipped)


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
                                        {"width": w, "height": h, "page": number,
                                         "scanned": True}))
    finally:
        doc.close()
    if blank:
        out.notes.append(f"{blank} blank page(s) left out")


def _blank(page: Any) -> bool:
    """A page with no objects at all has nothing to render (checked without rendering)."""
    import pypdfium2.raw as pdfium_c

    return int(pdfium_c.FPDFPage_CountObjects(page.raw)) == 0


def _uniform(img: Any) -> bool:
    """One colour all over (after rendering): nothing to read or see."""
    return all(lo == hi for lo, hi in img.getextrema())


def load_docx(data: bytes, limits: Limits) -> Loaded:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_package(data, limits, "Word (.docx)")
    stage("reading the Word XML")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise InvalidInput(f"not a readable Word (.docx) file: {e}") from e
    except Exception as e:  # zipfile.BadZipFile and friends
        raise InvalidInput(f"not a readable Word (.docx) file: {type(e).__name__}: {e}") from e
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(block, document)
            text = para.text.strip()
            style = (para.style.name if para.style is not None else "") or ""
            if text and style.lower().startswith(("heading", "title")):
                level = int(style[-1]) if style[-1].isdigit() else 1
                lines += ["", "#" * level + " " + text, ""]
            elif text:
                lines.append(text)
        elif tag == "tbl":
            table = Table(block, document)
            for row in table.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
    from .loaders import markdown_sections

    out = Loaded("docx", parts=markdown_sections("\n".join(lines)))
    check_text_total(out.parts, limits.max_chars)
    out.title = (document.core_properties.title or "").strip()
    skipped: list[str] = []
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/image") and not rel.is_external:
            _add_picture(out, rel.target_part.blob, limits, {}, skipped)
    return _finish(out, skipped)


def load_pptx(data: bytes, limits: Limits) -> Loaded:
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    check_package(data, limits, "PowerPoint (.pptx)")
    stage("reading the PowerPoint XML")
    try:
        deck = Presentation(io.BytesIO(data))
    except Exception as e:
        raise InvalidInput(f"not a readable PowerPoint (.pptx) file: {type(e).__name__}: "
                           f"{e}") from e
    out = Loaded("pptx")
    skipped: list[str] = []

    def walk(shapes: Any, number: int, texts: list[str]) -> None:
        for shape in shapes:
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                walk(shape.shapes, number, texts)
                continue
            if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
                texts.append(shape.text_frame.text.strip())
            if getattr(shape, "has_table", False):
                for row in shape.table.rows:
                    texts.append(" | ".join(c.text.strip() for c in row.cells))
            if shape.shape_type == MSO_SHAPE_TYPE.PICTURE:
                try:
                    blob = shape.image.blob
                except Exception as e:  # a linked, missing picture
                    skipped.append(str(e))
                    continue
                _add_picture(out, blob, limits, {"slide": number}, skipped)

    for number, slide in enumerate(deck.slides, 1):
        stage(f"reading slide {number}")
        texts: list[str] = []
        walk(slide.shapes, number, texts)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                texts.append(f"Notes: {notes}")
        if texts:
            out.parts.append((f"Slide {number}\n\n" + "\n\n".join(texts), {"slide": number}))
            check_text_total(out.parts, limits.max_chars)
    return _finish(out, skipped)


LOADERS: dict[str, Callable[[bytes, Limits], Loaded]] = {
    "pdf": load_pdf, "docx": load_docx, "pptx": load_pptx}
