"""Word and PowerPoint files: text with its headings or slide number, and the images inside.
Both are zip packages of XML; ``check_package`` bounds what they unpack to before any parser
sees them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, TooLarge

from .base import Limits, Loaded, add_picture, check_text_total, finish, markdown_sections, stage

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


def load_docx(data: bytes, limits: Limits, *, name: str = "",
              base: Path | None = None) -> Loaded:
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
    out = Loaded("docx", parts=markdown_sections("\n".join(lines)))
    check_text_total(out.parts, limits.max_chars)
    out.title = (document.core_properties.title or "").strip()
    skipped: list[str] = []
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/image") and not rel.is_external:
            add_picture(out, rel.target_part.blob, limits, {}, skipped)
    return finish(out, skipped)


def load_pptx(data: bytes, limits: Limits, *, name: str = "",
              base: Path | None = None) -> Loaded:
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
                add_picture(out, blob, limits, {items.SLIDE: number}, skipped)

    for number, slide in enumerate(deck.slides, 1):
        stage(f"reading slide {number}")
        texts: list[str] = []
        walk(slide.shapes, number, texts)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                texts.append(f"Notes: {notes}")
        if texts:
            out.parts.append((f"Slide {number}\n\n" + "\n\n".join(texts), {items.SLIDE: number}))
            check_text_total(out.parts, limits.max_chars)
    return finish(out, skipped)
