"""PDF, Word and PowerPoint files built on the spot with the libraries people use to make them."""

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.loaders import Limits, load
from ingest.pipeline import Ingestor, Source
from rag.errors import InvalidInput
from rag.schema import Query

pytestmark = pytest.mark.slow
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LIMITS = Limits(10**7, 10**8)


def text_picture(lines, size=(700, 220)):
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    try:
        font = ImageFont.truetype(FONT, 30)
    except OSError:
        font = ImageFont.load_default(30)
    for i, line in enumerate(lines):
        d.text((20, 20 + 50 * i), line, fill="black", font=font)
    return im


def pdf_with_text_and_image() -> bytes:
    """Two pages with a real text layer (matplotlib, TrueType fonts); page 2 holds a picture."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    matplotlib.rcParams["pdf.fonttype"] = 42
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.1, 0.9, "Warehouse safety rules", fontsize=20)
        fig.text(0.1, 0.85, "Forklifts must not exceed 8 km/h inside the warehouse.")
        pdf.savefig(fig)
        plt.close(fig)
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(0.1, 0.9, "Loading dock opening hours are 6:00 to 22:00.")
        fig.figimage(__import__("numpy").asarray(Image.new("RGB", (120, 90), (200, 30, 30))),
                     100, 300)
        pdf.savefig(fig)
        plt.close(fig)
    return buf.getvalue()


def scanned_pdf() -> bytes:
    """Pages that are only pictures of text, as a scanner makes them."""
    pages = [text_picture(["Scanned memo", "The parking garage closes at 23:00."]),
             text_picture(["Page two", "Visitors sign in at the front desk."])]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return buf.getvalue()


def test_pdf_text_has_page_numbers_and_images_are_extracted():
    loaded = load("rules.pdf", pdf_with_text_and_image(), LIMITS)
    pages = {meta["page"]: text for text, meta in loaded.parts}
    assert "8 km/h" in pages[1] and "6:00 to 22:00" in pages[2]
    # matplotlib shares the image between its pages, as PDFs do with a logo on every page:
    # one picture, kept once
    assert len(loaded.pictures) == 1 and loaded.pictures[0].image.size == (120, 90)


def test_scanned_pdf_pages_become_pictures():
    loaded = load("memo.pdf", scanned_pdf(), LIMITS)
    assert loaded.parts == []
    assert [p.meta["page"] for p in loaded.pictures] == [1, 2]


def test_pages_drawn_without_text_or_images_are_rendered():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.add_patch(plt.Circle((0.5, 0.5), 0.3, color="orange"))
    ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    loaded = load("drawing.pdf", buf.getvalue(), LIMITS)
    assert len(loaded.pictures) == 1 and loaded.pictures[0].meta["scanned"] is True


@pytest.mark.parametrize("make, message", [
    (lambda: pdf_with_text_and_image()[:400], "corrupt or truncated PDF"),
    (lambda: b"%PDF-1.4\nnothing else", "corrupt or truncated PDF"),
])
def test_broken_pdfs_are_refused(make, message):
    with pytest.raises(InvalidInput, match=message):
        load("x.pdf", make(), LIMITS)


def test_encrypted_pdf_is_refused():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_with_text_and_image())).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(InvalidInput, match="encrypted PDF"):
        load("x.pdf", buf.getvalue(), LIMITS)


def docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Security handbook", level=1)
    d.add_heading("Badges", level=2)
    d.add_paragraph("Lost badges are replaced at the reception for a fee of 10 euros.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Zone", "Access"
    table.cell(1, 0).text, table.cell(1, 1).text = "Server room", "Admins only"
    pic = io.BytesIO()
    Image.new("RGB", (60, 40), "green").save(pic, "PNG")
    pic.seek(0)
    d.add_picture(pic)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def pptx_bytes() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    s1 = deck.slides.add_slide(deck.slide_layouts[1])
    s1.shapes.title.text = "Quarterly goals"
    s1.placeholders[1].text = "Ship version 2 of the mobile app by June."
    s2 = deck.slides.add_slide(deck.slide_layouts[6])
    pic = io.BytesIO()
    text_picture(["Hiring plan: 12 engineers"]).save(pic, "PNG")
    pic.seek(0)
    s2.shapes.add_picture(pic, Inches(1), Inches(1))
    s2.notes_slide.notes_text_frame.text = "Budget approved in March."
    buf = io.BytesIO()
    deck.save(buf)
    return buf.getvalue()


def test_docx_keeps_headings_tables_and_pictures():
    loaded = load("handbook.docx", docx_bytes(), LIMITS)
    text, meta = next((t, m) for t, m in loaded.parts if "Lost badges" in t)
    assert meta["section"] == "Security handbook > Badges"
    assert text.startswith("Security handbook > Badges")
    assert any("Server room | Admins only" in t for t, _ in loaded.parts)
    assert len(loaded.pictures) == 1


def test_pptx_slides_notes_and_pictures():
    loaded = load("goals.pptx", pptx_bytes(), LIMITS)
    slides = {m["slide"]: t for t, m in loaded.parts}
    assert "Ship version 2" in slides[1] and "Budget approved in March." in slides[2]
    assert [p.meta["slide"] for p in loaded.pictures] == [2]


@pytest.mark.parametrize("name", ["bad.docx", "bad.pptx"])
def test_broken_office_files_are_refused(name):
    with pytest.raises(InvalidInput, match="not a readable"):
        load(name, b"PK\x03\x04 not really a zip", LIMITS)


def test_documents_end_to_end_with_pages_slides_and_ocr(service):
    ingestor = Ingestor(service)
    report = ingestor.ingest([
        Source("rules.pdf", data=pdf_with_text_and_image()),
        Source("memo.pdf", data=scanned_pdf()),
        Source("handbook.docx", data=docx_bytes()),
        Source("goals.pptx", data=pptx_bytes()),
    ])
    assert {f.source: f.status for f in report.files} == {
        "rules.pdf": "ingested", "memo.pdf": "ingested", "handbook.docx": "ingested",
        "goals.pptx": "ingested"}
    answer = service.answer(Query(text="How fast may forklifts drive in the warehouse?"))
    assert "8 km/h" in answer.text
    assert answer.citations[0].source == "rules.pdf" and answer.citations[0].location == "page 1"
    # a scanned page is found through its OCR text, cited as the page's picture
    answer = service.answer(Query(text="When does the parking garage close?"))
    assert "23:00" in answer.text and answer.citations[0].location == "page 1"
    assert answer.citations[0].modality == "image"
    answer = service.answer(Query(text="How many engineers are we hiring?"))
    assert "12 engineers" in answer.text and answer.citations[0].location == "slide 2"
    answer = service.answer(Query(text="How much does a lost badge cost?"))
    assert "10 euros" in answer.text
    # every picture in a document is stored, and each has its own vector with tiny CLIP
    assert report.images == 1 + 2 + 1 + 1
    pictures, _ = service.parts.store.get("default", "image", where={"source": "goals.pptx"})
    path, _ = ingestor.image_file("default", pictures[0].id)
    assert Path(path).is_file() and pictures[0].metadata["slide"] == 2
