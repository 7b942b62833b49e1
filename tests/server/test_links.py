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
    assert Links("hr team", "default", "https://rag.example").item("x") == \
        "https://rag.example/v1/items/x?collection=hr%20team"


def test_signed_links_carry_an_expiry_and_a_signature_bound_to_the_item():
    import time
    from urllib.parse import parse_qs, urlparse

    from server.links import verify

    url = Links("hr", "default", "", b"secret", 3600).image("pic-1")
    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    now = time.time()
    assert q["collection"] == "hr" and now + 0.9 * 3600 - 1 <= int(q["expires"]) <= now + 3600
    assert verify(b"secret", "images", "pic-1", "hr", q["expires"], q["sig"])
    assert not verify(b"secret", "images", "pic-2", "hr", q["expires"], q["sig"])
    assert not verify(b"secret", "items", "pic-1", "hr", q["expires"], q["sig"])
    assert not verify(b"secret", "images", "pic-1", "other", q["expires"], q["sig"])
    assert not verify(b"other", "images", "pic-1", "hr", q["expires"], q["sig"])
    assert not verify(b"secret", "images", "pic-1", "hr", str(int(time.time()) - 1), q["sig"])


@pytest.mark.parametrize("seconds", [60, 3600, 7 * 86400])
def test_a_link_lives_no_longer_than_it_says(seconds):
    """LINK_SECONDS=60 gave links valid for ~3,290 s: the expiry was rounded up to the hour
    plus an hour. It is now rounded down, by at most a tenth of the link's life."""
    import time
    from urllib.parse import parse_qs, urlparse

    now = time.time()
    url = Links("hr", "default", "", b"secret", seconds).item("x")
    expires = int(parse_qs(urlparse(url).query)["expires"][0])
    assert now + 0.9 * seconds - 1 <= expires <= now + seconds


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
            assert url.startswith(live.url + "/v1/images/")  # absolute: a person can open it
            got = httpx.get(url, timeout=30)
            assert got.status_code == 200 and got.content == image
