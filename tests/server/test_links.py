"""Links the API hands out work whatever the server's default collection is."""

from __future__ import annotations

import httpx
import pytest

from ingest.pipeline import Ingestor, Source
from rag.service import RagService
from server.links import Links

from ..helpers import png_bytes
from .conftest import LiveServer


def test_a_link_names_its_collection_unless_it_is_the_default():
    assert Links("kb", "kb").image("a b/c") == "/v1/images/a%20b%2Fc"
    assert Links("default", "kb").image("x") == "/v1/images/x?collection=default"
    assert Links("hr team", "default").image("x") == "/v1/images/x?collection=hr%20team"


@pytest.mark.integration
def test_image_links_work_with_another_default_collection(settings, text_embedder, clip):
    settings.default_collection = "kb"
    service = RagService.from_settings(settings, text_embedder, clip)
    image = png_bytes((20, 160, 40), (64, 48))
    for collection in ("default", "kb"):
        Ingestor(service).ingest([Source(f"{collection}.png", data=image)], collection)
    with LiveServer(service) as live:
        for collection in ("default", "kb"):
            r = httpx.post(live.url + "/v1/query", timeout=60, json={
                "question": "a green picture", "collection": collection, "generator": "extractive"})
            assert r.status_code == 200, r.text
            url = next(h["image_url"] for h in r.json()["hits"] if h["modality"] == "image")
            assert (url.endswith("?collection=default")) == (collection == "default")
            got = httpx.get(live.url + url, timeout=30)
            assert got.status_code == 200 and got.content == image
