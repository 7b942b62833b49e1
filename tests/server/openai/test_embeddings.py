"""/v1/embeddings through real HTTP."""

from __future__ import annotations

import httpx


def test_token_counts_are_taken_under_the_tokenizer_lock(live, service, text_embedder,
                                                         monkeypatch):
    """HF fast tokenizers are not safe across threads, and the server calls them from its
    worker pool: the tokenizer here refuses to run unless the embedder's lock is held."""
    tokenizer = text_embedder.model.tokenizer
    lock = text_embedder._lock

    class LockChecking(type(tokenizer)):
        def __call__(self, *args, **kwargs):
            if not lock.locked():
                raise RuntimeError("tokenizer called without the embedder's lock")
            return super().__call__(*args, **kwargs)

    monkeypatch.setattr(tokenizer, "__class__", LockChecking)
    r = httpx.post(live.url + "/v1/embeddings",
                   json={"input": ["When is salary paid?", "Where do I park?"]}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["index"] for d in body["data"]] == [0, 1] and len(body["data"][0]["embedding"]) == 384
    # "[CLS] when is salary paid ? [SEP]" and "[CLS] where do i park ? [SEP]": 7 + 7
    assert body["usage"] == {"prompt_tokens": 14, "total_tokens": 14}
