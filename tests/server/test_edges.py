"""The small holes an attacker's or an operator's probing found: server paths shown to
clients, names that look alike or read reversed, collections that differ by case alone,
loose types, 405s without Allow, and a spec that did not say what the server enforces."""

from __future__ import annotations

import unicodedata

import pytest

from ingest.pipeline import Ingestor

pytestmark = [pytest.mark.integration]


def test_files_ingested_from_disk_never_show_the_server_path(http, service, kb):
    Ingestor(service).ingest_paths([kb / "onboarding-faq.txt"])
    server_dir = str(kb)
    docs = http.get("/v1/documents").json()["documents"]
    assert [d["source"] for d in docs] == ["onboarding-faq.txt"]
    answer = http.post("/v1/query", json={"question": "When are salaries paid?"}).json()
    item_id = answer["citations"][0]["id"]
    page = http.get(f"/v1/items/{item_id}", headers={"Accept": "text/html"}).text
    view = http.get(f"/v1/items/{item_id}").json()
    assert server_dir not in page and view["source"] == "onboarding-faq.txt"
    assert "<title>onboarding-faq.txt" in page
    deleted = http.delete(f"/v1/documents/{docs[0]['id']}").json()
    assert deleted["deleted"]["source"] == "onboarding-faq.txt"


def test_names_that_look_alike_are_one_document_and_none_reads_reversed(http):
    composed = unicodedata.normalize("NFC", "caf\u00e9.md")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    first = http.post("/v1/ingest", files=[("files", (composed, b"# Menu\n\nCoffee is free."))])
    second = http.post("/v1/ingest", files=[("files", (decomposed, b"# Menu\n\nCoffee is free."))])
    assert first.json()["files"][0]["status"] == "ingested"
    assert second.json()["files"][0]["status"] == "unchanged", second.json()
    tricky = http.post("/v1/ingest", files=[("files", ("notes\u202etxt.md", b"# Notes\n\nHi."))])
    assert tricky.json()["files"][0]["source"] == "notestxt.md"
    sources = sorted(d["source"] for d in http.get("/v1/documents").json()["documents"])
    assert sources == [composed, "notestxt.md"]


def test_collections_that_differ_by_case_are_one(http):
    r = http.post("/v1/ingest", data={"collection": "Handbook"},
                  files=[("files", ("a.md", b"# A\n\nParking is behind the building."))])
    assert r.status_code == 200 and r.json()["collection"] == "handbook"
    for name in ("HANDBOOK", "handbook", "HandBook"):
        docs = http.get("/v1/documents", params={"collection": name}).json()
        assert docs["collection"] == "handbook" and len(docs["documents"]) == 1


def test_loose_types_and_unknown_fields_are_refused_where_the_api_is_ours(http):
    for body in ({"question": "x", "top_k": True}, {"question": "x", "top_k": "5"},
                 {"question": "x", "colection": "typo"}, {"question": 5}):
        r = http.post("/v1/query", json=body)
        assert r.status_code == 422, (body, r.text)
    chat = {"model": "mmrag", "messages": [{"role": "user", "content": "hi"}]}
    assert http.post("/v1/chat/completions", json={**chat, "temperature": True}).status_code \
        == 422
    assert http.post("/v1/chat/completions", json={**chat, "stream": "yes"}).status_code == 422
    # OpenAI's clients send fields this server does not use: accepted, as OpenAI's API does
    assert http.post("/v1/chat/completions", json={**chat, "seed": 1,
                                                   "presence_penalty": 0}).status_code == 200


def test_405_says_which_methods_are_allowed(http):
    r = http.put("/v1/query", json={})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json()["error"]["code"] == "http_405"


def test_the_spec_says_what_the_server_enforces(http):
    spec = http.get("/openapi.json").json()
    query = spec["components"]["schemas"]["QueryRequest"]
    assert query["additionalProperties"] is False
    assert query["properties"]["question"]["maxLength"] == 4000
    assert query["properties"]["collection"]["pattern"].startswith("^[A-Za-z0-9]")
    assert query["properties"]["tags"]["maxItems"] == 32
    chat = spec["components"]["schemas"]["ChatRequest"]["properties"]
    assert chat["messages"]["maxItems"] >= 100 and chat["collection"]["pattern"]
    for path, method in (("/v1/query", "post"), ("/v1/chat/completions", "post"),
                         ("/v1/documents", "get"), ("/v1/ingest", "post")):
        assert "404" in spec["paths"][path][method]["responses"], path
    documents = spec["paths"]["/v1/documents"]["get"]["parameters"]
    assert next(p for p in documents if p["name"] == "collection")["schema"]["pattern"]
