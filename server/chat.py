"""OpenAI-compatible endpoints: chat completions (plain and streamed as server-sent events)
and embeddings. Any OpenAI client works unmodified; citations travel in an extra field,
``citations``, of the response and of the last stream chunk."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rag.conversation import standalone_query
from rag.errors import InvalidInput, NotFound, TooLarge
from rag.generators import REGISTRY
from rag.images import decode_base64_image
from rag.schema import Citation, Fusion, Query
from rag.service import RagService
from rag.settings import Settings

from .deps import MetricsDep, PrincipalDep, ServiceDep, SettingsDep, WorkerDep
from .routes import observe
from .schemas import COMMON_ERRORS, NOT_FOUND, STREAM_RESPONSES

router = APIRouter(responses=COMMON_ERRORS)
DEFAULT_MODELS = {"mmrag", "default"}


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    stop: str | list[str] | None = None
    user: str | None = None
    n: int = Field(1, ge=1, le=1)
    # mmrag's own fields, sent by OpenAI clients through extra_body
    collection: str | None = None
    top_k: int | None = Field(None, ge=1, le=100)
    fusion: Fusion | None = None


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    input: str | list[str]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"


def generator_for(model: str, settings: Settings) -> str:
    if model in DEFAULT_MODELS:
        return settings.generator
    if model in REGISTRY:
        return model
    raise NotFound(f"the model {model!r} does not exist; GET /v1/models lists them "
                   f"('mmrag' picks the default, {settings.generator!r})")


def _parts(content: str | list[dict[str, Any]] | None) -> tuple[str, list[str]]:
    """(text, image URLs) of a message's content."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str) or not url:
                raise InvalidInput("an image_url part needs a url")
            images.append(url)
        else:
            raise InvalidInput(f"unsupported content part type {kind!r}: use text or image_url")
    return "\n".join(texts), images


def _fetch(url: str, settings: Settings) -> bytes:
    limit = settings.server.max_upload_bytes
    if url.startswith("data:"):
        return decode_base64_image(url, limit)
    if not url.startswith(("http://", "https://")):
        raise InvalidInput("image_url must be a data URI or an http(s) URL")
    if not settings.server.allow_image_urls:
        raise InvalidInput("this server does not fetch image URLs; send the image as a data "
                           "URI (data:image/png;base64,...), or start the server with "
                           "MMRAG_SERVER__ALLOW_IMAGE_URLS=true")
    import httpx

    try:
        with httpx.stream("GET", url, timeout=10, follow_redirects=True) as r:
            r.raise_for_status()
            data = b""
            for piece in r.iter_bytes():
                data += piece
                if len(data) > limit:
                    raise TooLarge(f"the image at {url} is over the limit of {limit:,} bytes")
            return data
    except httpx.HTTPError as e:
        raise InvalidInput(f"could not fetch the image at {url}: {e}") from e


def to_query(body: ChatRequest, settings: Settings, collection: str) -> Query:
    """The last user turn is the question; earlier user turns make a follow-up standalone."""
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise InvalidInput("the conversation has no user message")
    question, urls = _parts(users[-1].content)
    if len(question) > settings.server.max_question_chars:
        raise TooLarge(f"question is {len(question):,} characters, over the limit of "
                       f"{settings.server.max_question_chars:,}")
    if len(urls) > settings.server.max_images_per_request:
        raise TooLarge(f"{len(urls)} images in one message, over the limit of "
                       f"{settings.server.max_images_per_request} "
                       "(MMRAG_SERVER__MAX_IMAGES_PER_REQUEST)")
    images = [_fetch(u, settings) for u in urls]
    history = [_parts(m.content)[0] for m in users[:-1]]
    return Query(text=standalone_query(history, question), ask=question, images=images,
                 collection=collection, top_k=body.top_k or settings.top_k,
                 fusion=body.fusion or settings.fusion)


def _options(body: ChatRequest) -> dict[str, Any]:
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    return {"max_tokens": body.max_completion_tokens or body.max_tokens,
            "temperature": body.temperature, "top_p": body.top_p, "stop": stop,
            "user": body.user}


def citations_out(citations: list[Citation]) -> list[dict[str, Any]]:
    return [{"id": c.id, "n": c.n, "modality": c.modality, "source": c.source,
             "location": c.location, "score": round(c.score, 4), "url": c.url,
             "snippet": c.snippet, "cited": c.cited} for c in citations]


@router.post("/v1/chat/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def chat_completions(body: ChatRequest, service: ServiceDep, settings: SettingsDep,
                           work: WorkerDep, who: PrincipalDep, metrics: MetricsDep
                           ) -> dict | StreamingResponse:
    generator = generator_for(body.model, settings)
    collection = who.collection(body.collection, settings.default_collection)
    head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()),
            "model": body.model}
    # Admission first, before anything waits for a worker. A stream keeps its place until
    # its last event; retrieval and the start of generation happen before the response
    # starts, so their errors still become proper HTTP errors.
    entered = work.enter()
    streaming = False
    try:
        query = await work.run(to_query, body, settings, collection)
        if body.stream:
            stream = await work.run(service.stream, query, generator, _options(body))
            observe(metrics, stream.timings_ms, stream.generator)  # retrieval; no generate_ms
            usage = bool(body.stream_options and body.stream_options.include_usage)
            streaming = True
            return StreamingResponse(
                _sse(stream, head, service, work, usage), media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = await work.run(service.answer, query, generator, _options(body))
    finally:
        if not streaming:
            work.leave(entered)
    observe(metrics, answer.timings_ms, answer.generator)
    return {**head, "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": answer.usage.prompt_tokens,
                      "completion_tokens": answer.usage.completion_tokens,
                      "total_tokens": answer.usage.total_tokens},
            "citations": citations_out(answer.citations),
            "mmrag": {"generator": answer.generator, "found": answer.found,
                      "notes": answer.notes, "timings_ms": answer.timings_ms}}


async def _sse(stream: Any, head: dict, service: RagService, work: Any, include_usage: bool
               ) -> AsyncIterator[bytes]:
    def data(obj: dict) -> bytes:
        return f"data: {json.dumps(obj)}\n\n".encode()

    def event(delta: dict, finish: str | None = None, **extra: Any) -> bytes:
        return data({**head, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                  "logprobs": None}], **extra})

    try:
        yield event({"role": "assistant", "content": ""})
        parts, last = [], None
        while True:
            piece = await work.run(next, stream.chunks, None)
            if piece is None:
                break
            if piece.text:
                parts.append(piece.text)
                yield event({"content": piece.text})
            if piece.usage is not None or piece.finish_reason:
                last = piece
        text = "".join(parts)
        citations = citations_out(service.citations(stream.request.evidence, text))
        yield event({}, "stop", citations=citations,
                    mmrag={"generator": stream.generator, "notes": stream.notes,
                           "found": bool(stream.request.evidence)})
        if include_usage:
            u = last.usage if last is not None and last.usage is not None else None
            usage = {"prompt_tokens": u.prompt_tokens if u else 0,
                     "completion_tokens": u.completion_tokens if u else 0,
                     "total_tokens": u.total_tokens if u else 0}
            yield data({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"
    except Exception as e:  # the status line is gone: report in the stream, as OpenAI does
        yield data({"error": {"message": str(e), "type": "server_error",
                              "code": "stream_error"}})
    finally:
        close = getattr(stream.chunks, "close", None)
        if close:
            close()  # stops a local model's generation thread
        work.leave()


@router.post("/v1/embeddings", responses=NOT_FOUND)
async def embeddings(body: EmbeddingRequest, service: ServiceDep, settings: SettingsDep,
                     work: WorkerDep, _: PrincipalDep) -> dict:
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts or not all(isinstance(t, str) for t in texts):
        raise InvalidInput("input must be a string or a list of strings")
    if len(texts) > 2048:
        raise TooLarge(f"{len(texts)} inputs, over the limit of 2048")
    model = service.text_embedder.model_id
    if body.model not in (None, model, "mmrag", "default", model.split("/")[-1]):
        raise NotFound(f"the embedding model {body.model!r} does not exist; this server "
                       f"embeds with {model!r}")
    vecs = await work(service.text_embedder.embed, texts)
    tokens = await work.run(lambda: sum(len(service.text_embedder.model.tokenizer(t)[
        "input_ids"]) for t in texts))
    data = []
    for i, v in enumerate(vecs):
        emb: Any = (base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode()
                    if body.encoding_format == "base64" else [float(x) for x in v])
        data.append({"object": "embedding", "index": i, "embedding": emb})
    return {"object": "list", "data": data, "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

