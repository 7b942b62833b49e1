"""A Chroma server that goes away and comes back: 503 with Retry-After meanwhile, never a
500, and the same server process works again afterwards."""

from __future__ import annotations

import httpx
import pytest

from ingest.pipeline import Ingestor, Source
from rag.service import RagService

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_queries_wait_out_a_chroma_outage(settings, text_embedder, clip, chroma_server):
    settings.chroma_url = chroma_server.url
    service = RagService.from_settings(settings, text_embedder, clip)
    Ingestor(service).ingest([Source("faq.md", data=b"# FAQ\n\nSalaries are paid on the 25th "
                                                     b"of every month.")])
    ask = {"question": "When are salaries paid?"}
    with LiveServer(service) as live:
        assert httpx.get(live.url + "/readyz", timeout=30).status_code == 200
        assert httpx.post(live.url + "/v1/query", json=ask, timeout=60).status_code == 200

        chroma_server.stop()
        ready = httpx.get(live.url + "/readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
        assert "Chroma server" in ready.json()["checks"]["vector_store"]
        assert ready.json()["checks"]["database"] == "ok"
        assert httpx.get(live.url + "/healthz", timeout=30).status_code == 200  # alive
        for path, body in (("/v1/query", ask), ("/v1/chat/completions", {
                "model": "mmrag", "messages": [{"role": "user", "content": ask["question"]}]})):
            r = httpx.post(live.url + path, json=body, timeout=60)
            assert r.status_code == 503, r.text
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["type"] == "unavailable_error"
        upload = httpx.post(live.url + "/v1/ingest", timeout=60,
                            files=[("files", ("new.md", b"# New\n\nSome text."))])
        assert upload.status_code == 503 and "Chroma server" in upload.json()["error"]["message"]
        docs = httpx.get(live.url + "/v1/documents", timeout=30)
        assert docs.status_code == 200  # the database still answers what it holds

        chroma_server.start()  # same data, same port
        assert httpx.get(live.url + "/readyz", timeout=30).status_code == 200
        r = httpx.post(live.url + "/v1/query", json=ask, timeout=60)
        assert r.status_code == 200 and r.json()["citations"][0]["source"] == "faq.md"
