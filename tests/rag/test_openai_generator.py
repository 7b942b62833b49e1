"""The openai backend with the real openai client, against a local chat-completions server."""

import base64
import io
import socket

import pytest
from PIL import Image

from rag.answer.generators.base import collect
from rag.answer.generators.openai_api import OpenAIGenerator
from rag.errors import ModelUnavailable, Overloaded, UpstreamError
from rag.protocols import GenerationRequest
from rag.schema import Hit
from rag.sections import GenerationSettings, OpenAISettings

from .openai_server import FakeOpenAI, Reply, completion, stream_events

SOON = {"retry-after-ms": "10"}  # the client honours it, so retries take no time


@pytest.fixture
def api():
    with FakeOpenAI() as server:
        yield server


def generator(base_url, **kw):
    settings = OpenAISettings(base_url=base_url, api_key="sk-test", timeout=kw.pop("timeout", 5),
                              max_retries=kw.pop("max_retries", 2), image_max_side=64)
    return OpenAIGenerator(settings, GenerationSettings(**kw))


@pytest.fixture
def request_with_images(tmp_path):
    big = tmp_path / "chart.png"
    Image.new("RGB", (300, 150), "navy").save(big)
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (80, 80), "orange").save(photo)
    evidence = [
        (1, Hit(id="t1", modality="text", source="faq.txt", raw_score=0.5, calibrated_score=6,
                score=6, channel="text", text="Salaries are paid on the 25th.")),
        (2, Hit(id="i1", modality="image", source="chart.png", raw_score=0.3,
                calibrated_score=5, score=5, channel="image")),
        (3, Hit(id="i2", modality="image", source="photo.jpg", raw_score=0.3,
                calibrated_score=4, score=4, channel="image")),
    ]
    return GenerationRequest("When is salary paid?", evidence,
                             image_paths={2: str(big), 3: str(photo)}, max_tokens=50,
                             options={"stream": False})


def decode(url):
    head, b64 = url.split(",", 1)
    return head, Image.open(io.BytesIO(base64.b64decode(b64)))


def test_non_streaming_request_is_exactly_what_the_api_expects(api, request_with_images):
    api.replies.append(Reply(body=completion("Salaries are paid on the 25th [1].")))
    text, usage, finish = collect(generator(api.base_url).generate(request_with_images))
    assert text == "Salaries are paid on the 25th [1]." and finish == "stop"
    assert (usage.prompt_tokens, usage.completion_tokens) == (11, 7)

    [req] = api.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test"
    body = req["json"]
    assert body["model"] == "gpt-4o" and body["max_tokens"] == 50
    assert body["temperature"] == 0.0 and not body.get("stream")
    system, user = body["messages"]
    assert system["role"] == "system" and "evidence" in system["content"]
    assert user["role"] == "user"
    text_part, png_part, jpg_part = user["content"]
    assert text_part["type"] == "text" and "[1] (faq.txt) Salaries" in text_part["text"]
    head, img = decode(png_part["image_url"]["url"])
    assert head == "data:image/png;base64" and max(img.size) == 64  # downscaled
    head, img = decode(jpg_part["image_url"]["url"])
    assert head == "data:image/jpeg;base64" and img.size == (64, 64)


def test_streaming_yields_deltas_and_usage(api, request_with_images):
    api.replies.append(Reply(stream=stream_events(["Salaries ", "are paid ", "on the 25th [1]."])))
    request_with_images.options["stream"] = True
    chunks = list(generator(api.base_url).generate(request_with_images))
    assert [c.text for c in chunks[:3]] == ["Salaries ", "are paid ", "on the 25th [1]."]
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage.total_tokens == 25
    body = api.requests[0]["json"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_429_is_retried_then_succeeds(api, request_with_images):
    api.replies += [Reply(429, {"error": {"message": "slow down"}}, headers=SOON),
                    Reply(body=completion("fine [1]"))]
    assert collect(generator(api.base_url).generate(request_with_images))[0] == "fine [1]"
    assert len(api.requests) == 2


def test_persistent_429_is_overloaded(api, request_with_images):
    api.replies += [Reply(429, {"error": {"message": "quota"}}, headers=SOON)] * 3
    with pytest.raises(Overloaded, match="rate-limiting"):
        collect(generator(api.base_url, max_retries=1).generate(request_with_images))


def test_500_is_retried_then_reported(api, request_with_images):
    api.replies += [Reply(500, {"error": {"message": "boom"}}, headers=SOON)] * 2
    with pytest.raises(UpstreamError, match=r"refused the request \(500\): boom"):
        collect(generator(api.base_url, max_retries=1).generate(request_with_images))
    assert len(api.requests) == 2


def test_refused_key_is_reported(api, request_with_images):
    api.replies.append(Reply(401, {"error": {"message": "Incorrect API key"}}))
    with pytest.raises(UpstreamError, match="refused the API key"):
        collect(generator(api.base_url).generate(request_with_images))


def test_timeout_does_not_hang(api, request_with_images):
    api.replies.append(Reply(body=completion("late"), delay=3))
    with pytest.raises(UpstreamError, match="did not answer within 0.5s"):
        collect(generator(api.base_url, timeout=0.5, max_retries=0).generate(request_with_images))


def test_connection_refused(request_with_images):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens
    with pytest.raises(UpstreamError, match="cannot reach the model API"):
        collect(generator(f"http://127.0.0.1:{port}/v1", max_retries=0)
                .generate(request_with_images))


def test_missing_key_says_how_to_set_it(monkeypatch, request_with_images):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    gen = OpenAIGenerator(OpenAISettings(), GenerationSettings())
    with pytest.raises(ModelUnavailable, match="OPENAI_API_KEY"):
        collect(gen.generate(request_with_images))


def test_environment_variables_are_honoured(monkeypatch, api, request_with_images):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    gen = OpenAIGenerator(OpenAISettings(), GenerationSettings())
    collect(gen.generate(request_with_images))
    assert api.requests[0]["headers"]["authorization"] == "Bearer sk-from-env"
