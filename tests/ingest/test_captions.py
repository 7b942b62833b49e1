"""Captions at ingest by a vision generator, indexed as text that links to the picture."""


import pytest

from ingest.pipeline import Ingestor
from rag.errors import InvalidInput
from rag.schema import Query
from rag.service import RagService

from ..rag.openai_server import FakeOpenAI, Reply, completion

pytestmark = pytest.mark.slow


def test_captions_from_an_openai_compatible_model(settings, text_embedder, clip, kb):
    settings.ingest.captions = True
    settings.ingest.caption_generator = "openai"
    settings.ingest.ocr = "off"
    settings.openai.api_key = "sk-test"
    settings.openai.max_retries = 0
    with FakeOpenAI() as api:
        settings.openai.base_url = api.base_url
        api.replies += [Reply(body=completion("A bright red square sign on a wall."))] + \
            [Reply(body=completion("A plain picture."))] * 5
        service = RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)
        report = Ingestor(service).ingest_paths([kb / "img" / "red.png"])
        assert report.files[0].status == "ingested"
        sent = api.requests[0]["json"]["messages"][1]["content"]
        assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")
        assert "Describe this picture" in sent[0]["text"]
    items, _ = service.parts.store.get("default", "image")
    assert items[0].metadata["caption"] == "A bright red square sign on a wall."
    hits, _ = service.retrieve(Query(text="Is there a red sign on a wall?"))
    assert hits[0].channel == "caption" and hits[0].modality == "image"
    assert "red square sign" in service.answer(Query(text="red sign on a wall")).text


def test_a_failing_captioner_costs_the_caption_not_the_picture(settings, text_embedder, clip,
                                                               kb):
    settings.ingest.captions = True
    settings.ingest.caption_generator = "openai"
    settings.openai.api_key = "sk-test"
    settings.openai.base_url = "http://127.0.0.1:9/v1"
    settings.openai.max_retries = 0
    service = RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)
    report = Ingestor(service).ingest_paths([kb / "img" / "red.png"])
    assert report.files[0].status == "ingested" and report.images == 1


def test_text_only_generators_cannot_caption(settings, text_embedder, clip):
    settings.ingest.captions = True
    settings.ingest.caption_generator = "extractive"
    with pytest.raises(InvalidInput, match="cannot see images"):
        Ingestor(RagService.from_settings(settings, text_embedder=text_embedder, clip=clip))


@pytest.fixture(scope="session")
def tiny_blip2(tmp_path_factory):
    from rag.testing.models import build_random_blip2

    return build_random_blip2(tmp_path_factory.mktemp("tiny-blip2"))


def test_blip2_captions_through_the_production_loader(settings, text_embedder, clip, kb,
                                                      tiny_blip2):
    from PIL import Image

    from ingest.captions import Blip2Captioner

    captioner = Blip2Captioner(str(tiny_blip2), "cpu", max_tokens=4)
    words = captioner.caption(Image.new("RGB", (64, 48), "red"))
    assert isinstance(words, str) and 0 < len(words.split()) <= 4  # random weights: any words
    settings.ingest.captions = True
    settings.ingest.caption_generator = "blip2"
    settings.ingest.caption_model = str(tiny_blip2)
    settings.ingest.ocr = "off"
    service = RagService.from_settings(settings, text_embedder=text_embedder, clip=clip)
    Ingestor(service).ingest_paths([kb / "img" / "red.png"])
    items, _ = service.parts.store.get("default", "image")
    captions, _ = service.parts.store.get("default", "text", where={"derived_from": "caption"})
    assert items[0].metadata["caption"] and captions
    assert captions[0].metadata["image_id"] == items[0].id


def test_missing_blip2_model_says_how_to_provide_it(tmp_path):
    from PIL import Image

    from ingest.captions import Blip2Captioner
    from rag.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable, match="MMRAG_INGEST__CAPTION_MODEL"):
        Blip2Captioner(str(tmp_path / "none"), "cpu").caption(Image.new("RGB", (8, 8)))
