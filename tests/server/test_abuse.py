"""Requests that must not hurt anyone else: text that would poison a shared encoder batch,
bodies that parse into millions of objects, bodies sent without a key, conversations that
cost more the longer they are. Against a real uvicorn server with two tenants."""

from __future__ import annotations

import gc
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]
SURROGATE = '{"question": "\\ud800 salary"}'  # JSON that decodes to a lone surrogate


@pytest.fixture
def tenants(settings, service, kb, tmp_path):
    keys = {"keys": [{"key": "alpha-key", "collections": ["alpha"]},
                     {"key": "beta-key", "collections": ["beta"]}]}
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    settings.api_keys_file = tmp_path / "keys.json"
    with LiveServer(service) as live:
        clients = {name: httpx.Client(base_url=live.url, timeout=120, headers={
            "Authorization": f"Bearer {name}-key"}) for name in ("alpha", "beta")}
        for name, client in clients.items():
            files = [("files", ("faq.txt", (kb / "onboarding-faq.txt").read_bytes()))]
            assert client.post("/v1/ingest", files=files).status_code == 200, name
        yield live, clients
        for client in clients.values():
            client.close()


def _post_raw(client: httpx.Client, path: str, body: str) -> httpx.Response:
    return client.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def test_text_no_tokenizer_can_take_is_refused_with_a_400_naming_it(tenants):
    _, clients = tenants
    alpha = clients["alpha"]
    bad = {
        "/v1/query": SURROGATE,
        "/v1/chat/completions": '{"model": "mmrag", "messages": [{"role": "user", '
                                '"content": "\\udfff salary"}]}',
        "/v1/embeddings": '{"input": ["fine", "\\ud800"]}',
        "/v1/responses": '{"model": "mmrag", "input": "salary \\u0000 day"}',
        "/v1/completions": '{"model": "mmrag", "prompt": "\\ud83d pay"}',
    }
    for path, body in bad.items():
        r = _post_raw(alpha, path, body)
        assert r.status_code == 400, (path, r.status_code, r.text)
        message = r.json()["error"]["message"]
        assert "surrogate" in message or "NUL" in message, message
    tags = alpha.post("/v1/query", json={"question": "salary", "tags": ["a\x07b"]})
    assert tags.status_code == 400 and "control character" in tags.json()["error"]["message"]
    # the same words in two Unicode spellings are one question
    composed = alpha.post("/v1/query", json={"question": "caf\u00e9 salary"}).json()
    decomposed = alpha.post("/v1/query", json={"question": "cafe\u0301 salary"}).json()
    assert composed["question"] == decomposed["question"] == "caf\u00e9 salary"


def test_poisoned_questions_fail_no_other_question_or_tenant(tenants):
    """24 normal and 4 poisoned questions at once, 5 rounds, the poison from the other
    tenant: before, 63 of 120 normal questions got a 500 from the shared batch."""
    _, clients = tenants
    alpha, beta = clients["alpha"], clients["beta"]
    normal = ["When are salaries paid?", "How do I get a badge?", "Who do I ask about IT?",
              "What is the Wi-Fi password?"]

    def ask(i: int) -> tuple[str, int]:
        if i % 7 == 3:  # 4 of 28
            r = _post_raw(beta, "/v1/query", SURROGATE)
            return "poison", r.status_code
        client = alpha if i % 2 else beta
        r = client.post("/v1/query", json={"question": normal[i % len(normal)]})
        return "normal", r.status_code

    outcomes: list[tuple[str, int]] = []
    with ThreadPoolExecutor(28) as pool:
        for _ in range(5):
            outcomes += list(pool.map(ask, range(28)))
    assert sum(1 for kind, _ in outcomes if kind == "normal") == 120
    assert all(status == 200 for kind, status in outcomes if kind == "normal"), outcomes
    assert all(status == 400 for kind, status in outcomes if kind == "poison"), outcomes


def test_a_body_of_millions_of_values_is_refused_before_it_is_parsed(tenants):
    """2M tags in a 4 MB body gave a 422 of 90.9 MB after 16.8 s with the event loop blocked
    and +2.2 GB of memory."""
    live, clients = tenants
    body = json.dumps({"question": "salary", "tags": [1] * 2_000_000})
    rss = psutil.Process().memory_info().rss
    r = _post_raw(clients["alpha"], "/v1/query", body)
    gc.collect()
    grown = psutil.Process().memory_info().rss - rss
    assert r.status_code == 413, r.text[:300]
    assert "values" in r.json()["error"]["message"]
    assert len(r.content) < len(body) // 100
    assert grown < 200 * 1024 * 1024, grown
    assert httpx.get(live.url + "/healthz", timeout=5).status_code == 200


def test_validation_errors_are_capped_and_no_answer_outgrows_its_request(tenants):
    _, clients = tenants
    for body in ({"question": "salary", "tags": [1] * 30},
                 {"question": "salary", "tags": ["x" * 300] * 30},
                 {"model": "mmrag", "messages": [{"role": "nobody"}] * 400}):
        path = "/v1/query" if "question" in body else "/v1/chat/completions"
        raw = json.dumps(body)
        r = _post_raw(clients["alpha"], path, raw)
        assert r.status_code == 422, r.text[:300]
        assert len(r.content) <= 100 * len(raw) and len(r.content) < 4000, len(r.content)
    r = clients["alpha"].post("/v1/query", json={"question": "x", "tags": [1] * 30})
    assert "more" in r.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    json.dumps({"question": "salary", "tags": [{}] * 1_500_000}),  # ~6 MB
    "[" * 3_000_000 + "]" * 3_000_000,  # ~6 MB of nesting
    json.dumps({"question": "salary", "image": "A" * 9_000_000}),
])
def test_a_request_of_10_mb_or_less_costs_under_200_mb_with_or_without_a_key(tenants, body):
    live, clients = tenants
    for client in (clients["alpha"], httpx.Client(base_url=live.url, timeout=120)):
        gc.collect()
        rss = psutil.Process().memory_info().rss
        r = _post_raw(client, "/v1/query", body)
        assert 400 <= r.status_code < 500, r.text[:300]
        assert len(r.content) <= max(2000, len(body) * 100)
        grown = psutil.Process().memory_info().rss - rss
        assert grown < 200 * 1024 * 1024, (r.status_code, grown)


def test_the_key_is_checked_before_the_body_is_read(tenants):
    """A body sent with no key was parsed (103 MB: +2.6 GB) before the 401."""
    live, _ = tenants
    size = 100 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as s:
        s.sendall(f"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {size}\r\n\r\n".encode() + b'{"tags": [' + b"{}," * 1000)
        reply = s.recv(4096).decode("latin-1")  # answered with 99.99% of the body unsent
    assert reply.startswith("HTTP/1.1 401"), reply[:200]
    assert "www-authenticate: bearer" in reply.lower()


def test_a_long_conversation_is_refused_and_follow_ups_stay_linear(tenants):
    """An earlier turn of 150k words took 81 s: the follow-up rewrite was quadratic."""
    _, clients = tenants
    earlier = " ".join(f"word{i}" for i in range(150_000))
    started = time.monotonic()
    r = clients["alpha"].post("/v1/chat/completions", json={"model": "mmrag", "messages": [
        {"role": "user", "content": earlier}, {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "and what about it?"}]})
    assert r.status_code == 413 and "conversation" in r.json()["error"]["message"], r.text
    assert time.monotonic() - started < 30  # a generous bound: it took 81 s


def test_the_follow_up_rewrite_looks_at_each_word_once_and_stops_when_it_has_enough(
        monkeypatch):
    from rag.answer import conversation

    calls = []
    real = conversation.terms

    def counting(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(conversation, "terms", counting)
    history = [" ".join(f"topic{i}" for i in range(50_000))]
    query = conversation.standalone_query(history, "and for them?")
    assert query == f"and for them? ({' '.join(f'topic{i}' for i in range(12))})"
    assert len(calls) < 100, len(calls)  # it took one call per word: 50,000

