"""Text inside images: read with RapidOCR, indexed, and answered from."""

import shutil
from pathlib import Path

import pytest
from PIL import Image

from ingest.ocr import RapidOcr, respace
from ingest.pipeline import Ingestor
from rag.embedders.clip import ClipEmbedder
from rag.schema import Query
from rag.service import RagService

pytestmark = pytest.mark.slow
KB = Path(__file__).resolve().parents[2] / "examples" / "kb"


def test_respace_splits_run_together_words_but_keeps_names():
    assert respace("VPNconnectionfailed") == "VPN connection failed"
    assert respace("Thenetworkconnectionbetweenyour") == "The network connection between your"
    assert respace("Password:BlueHarbor2026 Network:NorthwindGuest") == \
        "Password:BlueHarbor2026 Network:NorthwindGuest"
    assert respace("extension4357, Error809, 24hours") == "extension 4357, Error 809, 24 hours"
    # a long word the splitter knows only in pieces is left whole (a GIMP dialog's field)
    assert respace("Reparametrize Improvement") == "Reparametrize Improvement"
    assert respace("thefileisnotavailable") == "the file is not available"


def test_reads_the_sign():
    result = RapidOcr().read(Image.open(KB / "images" / "guest-wifi-sign.png").convert("RGB"))
    assert "BlueHarbor2026" in result.text and "NorthwindGuest" in result.text
    assert result.lines >= 4 and result.confidence > 0.8
    assert RapidOcr().read(Image.new("RGB", (200, 100), "white")).text == ""


@pytest.fixture
def signs(tmp_path):
    folder = tmp_path / "signs"
    folder.mkdir()
    for name in ("guest-wifi-sign.png", "fire-evacuation-slide.png"):
        shutil.copy(KB / "images" / name, folder / name)
    Image.new("RGB", (80, 60), (120, 40, 200)).save(folder / "plain.png")
    return folder


def test_without_clip_image_text_is_still_searchable(settings, text_embedder, signs, tmp_path):
    service = RagService.from_settings(settings, text_embedder=text_embedder,
                         clip=ClipEmbedder(str(tmp_path / "no-clip"), "cpu"))
    ingestor = Ingestor(service)
    report = ingestor.ingest_paths([signs])
    status = {Path(f.source).name: (f.status, f.images, f.chunks) for f in report.files}
    assert status["guest-wifi-sign.png"][:2] == ("ingested", 0)  # no vector: text only
    assert status["guest-wifi-sign.png"][2] >= 1
    assert status["plain.png"][0] == "skipped"  # neither a vector nor any text
    answer = service.answer(Query(text="What is the guest Wi-Fi password?"))
    assert "BlueHarbor2026" in answer.text
    top = answer.citations[0]
    assert top.modality == "image" and top.source.endswith("guest-wifi-sign.png")
    path, mime = ingestor.image_file("default", top.id)
    assert Path(path).read_bytes() == (signs / "guest-wifi-sign.png").read_bytes()
    assert mime == "image/png"


def test_with_clip_an_image_appears_once_with_its_text_as_evidence(service, signs):
    ingestor = Ingestor(service)
    ingestor.ingest_paths([signs])
    hits, _ = service.retrieve(Query(text="Where is the evacuation assembly point?", top_k=10))
    slide = [h for h in hits if h.source.endswith("fire-evacuation-slide.png")]
    assert len(slide) == 1 and slide[0].channel == "ocr"
    assert "parking lot C" in slide[0].text
    answer = service.answer(Query(text="Where is the evacuation assembly point?"))
    top = answer.citations[0]
    assert "parking lot C" in answer.text and top.modality == "image"
    assert Path(ingestor.image_file("default", top.id)[0]).is_file()


def test_a_screenshot_beside_the_page_that_shows_it_is_one_piece_of_evidence(service, signs):
    # a help folder: the page shows images/guest-wifi-sign.png, which is also a file there
    (signs / "images").mkdir()
    shutil.move(signs / "guest-wifi-sign.png", signs / "images" / "guest-wifi-sign.png")
    (signs / "wifi.html").write_text('<html><body><h1>Guest network</h1><p>Visitors use the '
                                     'network on the sign.</p><img src="images/guest-wifi-'
                                     'sign.png"></body></html>')
    Ingestor(service).ingest_paths([signs])
    answer = service.answer(Query(text="What is the guest Wi-Fi password?", top_k=5))
    assert "BlueHarbor2026" in answer.text
    signs_hit = [c for c in answer.citations if c.modality == "image"
                 and "wifi" in c.source.lower()]
    assert len(signs_hit) == 1  # one picture, stored twice, is one piece of evidence
    assert signs_hit[0].source.endswith("guest-wifi-sign.png")  # the file of its own
    # the text read in the page's copy says where the page shows it
    found, _ = service.parts.store.get("default", "text", where={"source": str(signs /
                                                                           "wifi.html")})
    read = [it for it in found if it.metadata.get("derived_from") == "ocr"]
    assert read and all(it.metadata["ref"] == "images/guest-wifi-sign.png" for it in read)


def test_the_passage_that_shows_a_picture_keeps_the_text_read_in_it(service, signs):
    import json

    from rag import items

    (signs / "wifi.md").write_text("# Visitors\n\nVisitors sign in at the front desk.\n\n"
                                   "# Guest network\n\nThe sign in the lobby gives the guest "
                                   "network:\n\n![sign](guest-wifi-sign.png)\n\n# Parking\n\n"
                                   "Visitors park in lot B.\n")
    Ingestor(service).ingest_paths([signs / "wifi.md"])
    found, _ = service.parts.store.get("default", "text",
                                       where={"source": str(signs / "wifi.md")})
    shows = {it.document.split("\n")[0]: json.loads(it.metadata[items.SHOWS])
             for it in found if items.SHOWS in it.metadata}
    assert len(shows) == 1  # the guest network's passage, not the others
    [(passage, [[ref, text]])] = shows.items()
    assert "Guest network" in passage and ref == "guest-wifi-sign.png"
    assert "BlueHarbor2026" in text
    pictures, _ = service.parts.store.get("default", "image",
                                          where={"source": str(signs / "wifi.md")})
    assert pictures and all(not k.startswith("_") for p in pictures for k in p.metadata)
