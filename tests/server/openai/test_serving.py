"""The OpenAI serving logic without HTTP: stream events and their errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

from rag.errors import UpstreamError
from rag.protocols import GenerationChunk, GenerationRequest
from rag.service import Stream
from server.links import Links
from server.openai.serving import Head, stream_events


def _events(chunks: Iterator[GenerationChunk]) -> list[dict]:
    stream = Stream(chunks, GenerationRequest("q", []), [], "openai")

    async def next_piece(it):
        return next(it, None)

    async def collect() -> list[bytes]:
        return [e async for e in stream_events(stream, Head("mmrag"),
                                               Links("default", "default"), next_piece, True)]

    out = []
    for raw in asyncio.run(collect()):
        assert raw.startswith(b"data: ") and raw.endswith(b"\n\n")
        body = raw[6:-2]
        out.append({"done": True} if body == b"[DONE]" else json.loads(body))
    return out


def test_a_stream_ends_with_citations_usage_and_done():
    events = _events(iter([GenerationChunk("Hello"),
                           GenerationChunk(" there", finish_reason="stop")]))
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-2]) == \
        "Hello there"
    last = events[-3]
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"] == []
    assert events[-2]["choices"] == [] and events[-2]["usage"]["total_tokens"] == 0
    assert events[-1] == {"done": True}


def test_an_upstream_failure_mid_stream_reads_as_one():
    def failing() -> Iterator[GenerationChunk]:
        yield GenerationChunk("Part of an answer")
        raise UpstreamError("the model API closed the connection")

    events = _events(failing())
    assert events[1]["choices"][0]["delta"]["content"] == "Part of an answer"
    assert events[-1] == {"error": {"message": "the model API closed the connection",
                                    "type": "upstream_error", "code": "upstream_error"}}


def test_an_unexpected_failure_mid_stream_is_a_server_error_without_details():
    def failing() -> Iterator[GenerationChunk]:
        raise KeyError("secret internals")
        yield  # pragma: no cover

    events = _events(failing())
    assert events[-1]["error"]["type"] == "server_error"
    assert "secret" not in events[-1]["error"]["message"]
