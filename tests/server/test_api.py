"""The HTTP API through real requests to a real server."""

import base64
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def upload(http, kb, names, collection=None):
    files = [("files", (Path(n).name, (kb / n).read_bytes())) for n in names]
    data = {"collection": collection} if collection else None
    return http.post("/v1/ingest", files=files, data=data)


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["message"] and body["type"] and body["code"]
    return body


def test_health(http):
    body = http.get("/healthz").json()
    assert body["status"] == "ok" and body["images"] == "available"


def test_ingest_query_documents_images_delete(http, kb):
    r = upload(http, kb, ["onboarding-faq.txt", "office-guide.md", "img/red.png",
                          "img/broken.png", "empty.txt"])
    assert r.status_code == 200, r.text
    body = r.json()
    statuses = {f["source"]: f["status"] for f in body["files"]}
    assert statuses == {"onboarding-faq.txt": "ingested", "office-guide.md": "ingested",
                        "red.png": "ingested", "broken.png": "skipped", "empty.txt": "skipped"}
    assert body["images"] == 1 and body["skipped"] == 2 and body["chunks"] > 0

    r = http.post("/v1/query", json={"question": "When is salary paid?"})
    assert r.status_code == 200, r.text
    ans = r.json()
    assert ans["found"] and "25th" in ans["answer"]
    assert ans["citations"][0]["source"] == "onboarding-faq.txt"
    assert {"embed_ms", "search_ms", "generate_ms"} <= set(ans["timings_ms"])
    hit = ans["hits"][0]
    assert {"raw_score", "calibrated_score", "score", "modality", "source"} <= set(hit)

    red = (kb / "img" / "red.png").read_bytes()
    r = http.post("/v1/query", json={
        "question": "", "image": "data:image/png;base64," + base64.b64encode(red).decode()})
    assert r.status_code == 200, r.text
    top = r.json()["hits"][0]
    assert top["modality"] == "image" and top["source"] == "red.png"
    img = http.get(top["image_url"])
    assert img.status_code == 200 and img.content == red
    assert img.headers["content-type"] == "image/png"

    docs = http.get("/v1/documents").json()["documents"]
    assert {d["source"] for d in docs} == {"onboarding-faq.txt", "office-guide.md", "red.png"}
    faq = next(d for d in docs if d["source"] == "onboarding-faq.txt")
    assert faq["chunks"] > 0 and len(faq["sha256"]) == 64 and faq["ingested_at"]

    assert http.delete(f"/v1/documents/{faq['id']}").status_code == 200
    assert faq["id"] not in {d["id"] for d in http.get("/v1/documents").json()["documents"]}
    ans = http.post("/v1/query", json={"question": "When is salary paid?"}).json()
    assert all(c["source"] != "onboarding-faq.txt" for c in ans["citations"])
    error_of(http.delete(f"/v1/documents/{faq['id']}"), 404)


def test_collections_over_http(http, kb):
    assert upload(http, kb, ["onboarding-faq.txt"], collection="hr").status_code == 200
    assert http.post("/v1/query", json={"question": "When is salary paid?",
                                        "collection": "hr"}).json()["found"]
    assert not http.post("/v1/query", json={"question": "When is salary paid?"}).json()["found"]
    assert len(http.get("/v1/documents", params={"collection": "hr"}).json()["documents"]) == 1
    assert http.get("/v1/documents").json()["documents"] == []


def test_bad_requests_get_4xx_with_a_named_problem(http, kb):
    assert "JSON" in error_of(http.post("/v1/query", content=b"{not json",
                                        headers={"content-type": "application/json"}),
                              422)["message"]
    assert "question" in error_of(http.post("/v1/query", json={"question": 5}), 422)["message"]
    assert "top_k" in error_of(http.post("/v1/query", json={"question": "x", "top_k": 0}),
                               422)["message"]
    assert "needs text, an image" in error_of(http.post("/v1/query", json={"question": " "}),
                                              400)["message"]
    assert "base64" in error_of(http.post("/v1/query", json={"question": "x", "image": "@@"}),
                                400)["message"]
    garbage = base64.b64encode(b"definitely not an image").decode()
    upload(http, kb, ["img/red.png"])
    assert "not a recognisable image" in error_of(
        http.post("/v1/query", json={"question": "", "image": garbage}), 400)["message"]
    assert "collection" in error_of(
        http.post("/v1/query", json={"question": "x", "collection": "../x"}), 400)["message"]
    assert "unknown generator" in error_of(
        http.post("/v1/query", json={"question": "x", "generator": "gpt-9"}), 400)["message"]
    error_of(http.post("/v1/query", json={"question": "x" * 5000}), 413)
    error_of(http.get("/v1/images/nope"), 404)
    error_of(http.post("/v1/ingest"), 422)  # no files field
    error_of(http.get("/v1/nowhere"), 404)


def test_upload_names_cannot_escape(http, live):
    r = http.post("/v1/ingest", files=[("files", ("../../etc/evil.md", b"# Evil\n\nText here."))])
    assert r.status_code == 200
    assert r.json()["files"][0]["source"] == "evil.md"


def test_models_and_generator_errors(http, live, kb, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    models = http.get("/v1/models").json()
    assert models["object"] == "list"
    ids = [m["id"] for m in models["data"]]
    assert ids[:2] == ["mmrag", "extractive"] and models["data"][1]["default"] is True
    upload(http, kb, ["onboarding-faq.txt"])
    settings = live.server.config.app.state.settings
    settings.openai.api_key = "sk-test"
    settings.openai.base_url = "http://127.0.0.1:9/v1"
    settings.openai.max_retries = 0
    assert "openai" in [m["id"] for m in http.get("/v1/models").json()["data"]]
    # fallback (the default): an answer, with a note that says what happened
    body = http.post("/v1/query", json={"question": "When is salary paid?",
                                        "generator": "openai"}).json()
    assert body["generator"] == "extractive" and "openai generator failed" in body["notes"][0]
    settings.generation.on_error = "error"
    assert "cannot reach the model API" in error_of(
        http.post("/v1/query", json={"question": "When is salary paid?", "generator": "openai"}),
        502)["message"]


def test_background_ingestion_job(http, kb):
    files = [("files", (n, (kb / n).read_bytes()))
             for n in ("onboarding-faq.txt", "office-guide.md", "empty.txt")]
    r = http.post("/v1/ingest", files=files, data={"background": "true"})
    assert r.status_code == 202, r.text
    url = r.json()["status_url"]
    import time

    deadline = time.time() + 60
    while (job := http.get(url).json())["status"] in ("queued", "running"):
        assert time.time() < deadline
        time.sleep(0.1)
    assert job["status"] == "done" and job["files_done"] == job["files_total"] == 3
    assert job["chunks_written"] > 0 and job["errors"][0]["source"] == "empty.txt"
    assert http.post("/v1/query", json={"question": "When is salary paid?"}).json()["found"]
    error_of(http.get("/v1/jobs/nope"), 404)
