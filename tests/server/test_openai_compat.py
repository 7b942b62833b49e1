"""OpenAI-compatible API with the official openai client, served by uvicorn on 127.0.0.1."""

import base64
import io
import json
import threading
import time

import httpx
import openai
import pytest
from PIL import Image

from ingest.pipeline import Ingestor

from ..rag.openai_server import FakeOpenAI, Reply, completion
from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def png_data_uri(color="red", size=(64, 48), noise=False):
    buf = io.BytesIO()
    im = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, color)
    im.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def client(live):
    return openai.OpenAI(base_url=live.url + "/v1", api_key="unused-in-dev-mode", max_retries=0)


@pytest.fixture
def kb_ingested(service, kb):
    Ingestor(service).ingest_paths([kb])
    return kb


def test_chat_non_streaming_with_citations(client, kb_ingested):
    r = client.chat.completions.create(
        model="mmrag", messages=[{"role": "system", "content": "Be brief."},
                                 {"role": "user", "content": "When is salary paid?"}])
    assert r.object == "chat.completion" and r.model == "mmrag"
    assert "25th of every month" in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    citations = r.model_extra["citations"]
    assert citations[0]["source"].endswith("onboarding-faq.txt") and citations[0]["cited"]
    assert {"id", "modality", "source", "score", "url"} <= set(citations[0])


def test_chat_streaming_sends_openai_chunks_and_citations_last(client, kb_ingested):
    stream = client.chat.completions.create(
        model="extractive", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "How long must passwords be?"}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "14 characters" in text
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason][-1]
    assert final.choices[0].finish_reason == "stop"
    assert final.model_extra["citations"][0]["source"].endswith("it-security-guidelines.html")
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


def test_raw_sse_format_ends_with_done(live, kb_ingested):
    body = {"model": "mmrag", "stream": True,
            "messages": [{"role": "user", "content": "When is salary paid?"}]}
    with httpx.stream("POST", live.url + "/v1/chat/completions", json=body, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    first = json.loads(lines[0][6:])
    assert first["object"] == "chat.completion.chunk" and first["id"].startswith("chatcmpl-")


def test_chat_with_an_image_part_searches_by_image(client, live, kb_ingested):
    green = (kb_ingested / "img" / "green.jpg").read_bytes()
    uri = "data:image/jpeg;base64," + base64.b64encode(green).decode()
    r = client.chat.completions.create(model="mmrag", messages=[{"role": "user", "content": [
        {"type": "text", "text": "Where is this picture from?"},
        {"type": "image_url", "image_url": {"url": uri}}]}])
    sources = [c["source"] for c in r.model_extra["citations"]]
    assert sources[0].endswith("green.jpg")
    assert r.model_extra["citations"][0]["url"].startswith(live.url + "/v1/images/")


def test_follow_up_question_uses_the_conversation(client, kb_ingested):
    r = client.chat.completions.create(model="mmrag", messages=[
        {"role": "user", "content": "What is the daily allowance for meals when travelling?"},
        {"role": "assistant", "content": "45 euros on a full travel day [1]."},
        {"role": "user", "content": "And on the day of departure?"}])
    assert "25 euros" in r.choices[0].message.content
    assert r.model_extra["citations"][0]["source"].endswith("travel-expense-policy.md")


def test_models_embeddings_and_errors(client, live, kb_ingested):
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "mmrag" and "extractive" in ids
    emb = client.embeddings.create(model="all-MiniLM-L6-v2", input=["hello", "world"])
    assert len(emb.data) == 2 and len(emb.data[0].embedding) == 384
    # clients send their own default model names: any name is this server's text model
    emb = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert emb.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(emb.data[0].embedding) == 384
    with pytest.raises(openai.BadRequestError, match="384-dimensional"):
        client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=256)
    with pytest.raises(openai.BadRequestError, match="check_embedding_ctx_length=False"):
        client.embeddings.create(model="text-embedding-3-small", input=[[101, 7592, 102]])
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert "gpt-9" in e.value.message
    with pytest.raises(openai.BadRequestError, match="unsupported content part"):
        client.chat.completions.create(model="mmrag", messages=[{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}])
    with pytest.raises(openai.BadRequestError, match="does not fetch image URLs"):
        client.chat.completions.create(model="mmrag", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/x.png"}}]}])
    too_many = [{"type": "image_url", "image_url": {"url": png_data_uri()}}] * 5
    with pytest.raises(openai.APIStatusError) as e:
        client.chat.completions.create(model="mmrag",
                                       messages=[{"role": "user", "content": too_many}])
    assert e.value.status_code == 413 and "MAX_IMAGES_PER_REQUEST" in e.value.message


def test_oversize_image_and_request_body(settings, service, kb):
    settings.server.max_upload_bytes = 2000
    settings.server.max_request_bytes = 50_000
    with LiveServer(service) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="x", max_retries=0)
        big = png_data_uri(size=(100, 100), noise=True)  # ~10 KB of PNG
        with pytest.raises(openai.APIStatusError) as e:
            client.chat.completions.create(model="mmrag", messages=[{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": big}}]}])
        assert e.value.status_code == 413
        r = httpx.post(live.url + "/v1/query", json={"question": "x" * 60_000}, timeout=30)
        assert r.status_code == 413 and "MAX_REQUEST_BYTES" in r.json()["error"]["message"]
        assert httpx.get(live.url + "/healthz").status_code == 200


def test_request_id_and_metrics(live, http):
    r = http.get("/healthz", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(http.get("/healthz").headers["x-request-id"]) == 32
    http.post("/v1/query", json={"question": "anything at all"})
    text = http.get("/metrics").text
    assert 'mmrag_http_requests_total{endpoint="/v1/query",method="POST",status="200"}' in text
    assert "mmrag_retrieval_seconds_count 1.0" in text
    assert "mmrag_queue_depth" in text and "mmrag_http_request_duration_seconds_bucket" in text


def test_overload_returns_503_with_retry_after_and_recovers(settings, service, kb):
    Ingestor(service).ingest_paths([kb / "onboarding-faq.txt"])
    settings.server.workers = 1
    settings.server.max_queue = 0
    settings.openai.api_key = "sk-test"
    settings.openai.max_retries = 0
    with FakeOpenAI() as api, LiveServer(service) as live:
        settings.openai.base_url = api.base_url
        api.replies.append(Reply(body=completion("Paid on the 25th [1]."), delay=2.0))
        slow: dict = {}
        body = {"model": "openai", "messages": [{"role": "user",
                                                 "content": "When is salary paid?"}]}

        def first():
            slow["r"] = httpx.post(live.url + "/v1/chat/completions", json=body, timeout=30)

        t = threading.Thread(target=first)
        t.start()
        deadline = time.time() + 10
        while not api.requests and time.time() < deadline:
            time.sleep(0.05)
        busy = httpx.post(live.url + "/v1/chat/completions", json=body, timeout=30)
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
        assert busy.json()["error"]["code"] == "overloaded"
        assert httpx.get(live.url + "/healthz").status_code == 200
        t.join(30)
        assert slow["r"].status_code == 200
        assert "25th" in slow["r"].json()["choices"][0]["message"]["content"]
        again = httpx.post(live.url + "/v1/chat/completions",
                           json={**body, "model": "extractive"}, timeout=30)
        assert again.status_code == 200


def test_chat_streaming_with_an_image_part(client, kb_ingested):
    blue = (kb_ingested / "img" / "blue.webp").read_bytes()
    uri = "data:image/webp;base64," + base64.b64encode(blue).decode()
    stream = client.chat.completions.create(model="mmrag", stream=True, messages=[
        {"role": "user", "content": [{"type": "text", "text": "Which picture is this?"},
                                     {"type": "image_url", "image_url": {"url": uri}}]}])
    chunks = list(stream)
    final = [c for c in chunks if c.choices and c.choices[0].finish_reason][-1]
    citations = final.model_extra["citations"]
    assert citations[0]["source"].endswith("blue.webp") and citations[0]["modality"] == "image"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "blue.webp" in text  # the extractive answer links the picture it found
