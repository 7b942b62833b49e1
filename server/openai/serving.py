"""The logic behind the OpenAI endpoints: a chat request becomes a Query, an Answer or a
stream becomes the response shapes of ``protocol``, embeddings come from the text model. No
FastAPI here; ``routes`` calls these."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.answer.conversation import standalone_query
from rag.answer.generators import REGISTRY
from rag.errors import InvalidInput, NotFound, TooLarge
from rag.protocols import GenerationChunk
from rag.schema import Answer, Query
from rag.service import RagService, Stream
from rag.settings import Settings
from rag.text_input import clean_text

from ..errors import describe
from ..links import Links
from ..schemas import CitationOut, UsageOut
from . import sources
from .images import image_bytes
from .protocol import (
    MAX_EMBEDDING_INPUTS,
    SSE_DONE,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Choice,
    ChunkChoice,
    Embedding,
    EmbeddingList,
    EmbeddingRequest,
    EmbeddingUsage,
    MmragInfo,
    sse,
)

DEFAULT_MODELS = {"mmrag", "default"}


def generator_for(model: str, settings: Settings) -> str:
    if model in DEFAULT_MODELS:
        return settings.generator
    if model in REGISTRY:
        return model
    raise NotFound(f"the model {model!r} does not exist; GET /v1/models lists them "
                   f"('mmrag' picks the default, {settings.generator!r})")


def message_parts(content: str | list[dict[str, Any]] | None) -> tuple[str, list[str]]:
    """(text, image URLs) of a message's content."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return clean_text(content, "a message"), []
    texts, images = [], []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            text = part.get("text", "")
            if not isinstance(text, str):
                raise InvalidInput("a text part's text must be a string")
            texts.append(clean_text(text, "a message"))
        elif kind == "image_url":
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            if not isinstance(url, str) or not url:
                raise InvalidInput("an image_url part needs a url")
            images.append(url)
        else:
            raise InvalidInput(f"unsupported content part type {kind!r}: use text or image_url")
    return "\n".join(texts), images


def _length(content: str | list[dict[str, Any]] | None) -> int:
    """The characters of a message's text (its pictures are bounded by size and count)."""
    if isinstance(content, str):
        return len(content)
    return sum(len(p["text"]) for p in content or () if isinstance(p.get("text"), str))


def to_query(body: ChatRequest, settings: Settings, collection: str) -> Query:
    """The last user turn is the question; earlier user turns make a follow-up standalone."""
    size = sum(_length(m.content) for m in body.messages)
    if size > settings.server.max_conversation_chars:
        raise TooLarge(f"the conversation is {size:,} characters, over the limit of "
                       f"{settings.server.max_conversation_chars:,} "
                       "(MMRAG_SERVER__MAX_CONVERSATION_CHARS): start a new chat")
    users = [m for m in body.messages if m.role == "user"]
    if not users:
        raise InvalidInput("the conversation has no user message")
    question, urls = message_parts(users[-1].content)
    if len(question) > settings.server.max_question_chars:
        raise TooLarge(f"question is {len(question):,} characters, over the limit of "
                       f"{settings.server.max_question_chars:,}")
    if len(urls) > settings.server.max_images_per_request:
        raise TooLarge(f"{len(urls)} images in one message, over the limit of "
                       f"{settings.server.max_images_per_request} "
                       "(MMRAG_SERVER__MAX_IMAGES_PER_REQUEST)")
    images = [image_bytes(u, settings) for u in urls]
    history = [message_parts(m.content)[0] for m in users[:-1]]
    return Query(text=standalone_query(history, question), ask=question, images=images,
                 collection=collection, top_k=body.top_k or settings.top_k,
                 fusion=body.fusion or settings.fusion)


def options(body: ChatRequest) -> dict[str, Any]:
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    return {"max_tokens": body.max_completion_tokens or body.max_tokens,
            "temperature": body.temperature, "top_p": body.top_p, "stop": stop,
            "user": body.user}


@dataclass
class Head:
    """What every response and chunk of one completion carries."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def fields(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created, "model": self.model}


def completion(answer: Answer, head: Head, links: Links, with_footer: bool) -> ChatCompletion:
    citations = [CitationOut.of(c, links) for c in answer.citations]
    shown = with_footer and answer.found
    text = answer.text + (sources.footer(citations, answer.question) if shown else "")
    return ChatCompletion(
        **head.fields(),
        choices=[Choice(message=AssistantMessage(
            content=text, annotations=sources.url_citations(answer.text, citations)),
            finish_reason=answer.finish_reason or "stop")],
        usage=UsageOut.of(answer.usage),
        citations=citations,
        mmrag=MmragInfo(generator=answer.generator, found=answer.found, notes=answer.notes,
                        timings_ms=answer.timings_ms, answerability=answer.answerability))


async def pieces(stream: Stream, next_piece: Any
                 ) -> AsyncIterator[tuple[str, GenerationChunk | None]]:
    """(text, None) per piece of an answer being generated, then ("", the last chunk, which
    carries usage and finish_reason). ``next_piece`` runs ``next(chunks, None)`` off the
    event loop."""
    chunks: Iterator[GenerationChunk] = stream.chunks
    last = None
    while (piece := await next_piece(chunks)) is not None:
        if piece.text:
            yield piece.text, None
        if piece.usage is not None or piece.finish_reason:
            last = piece
    yield "", last


def _chunk(head: Head, delta: dict[str, Any], finish: str | None = None,
           **extra: Any) -> bytes:
    return ChatCompletionChunk(**head.fields(), choices=[ChunkChoice(
        delta=delta, finish_reason=finish)], **extra).sse()


async def stream_events(stream: Stream, head: Head, links: Links,
                        next_piece: Any, include_usage: bool,
                        with_footer: bool = False) -> AsyncIterator[bytes]:
    """The answer as chat.completion.chunk events; the last content chunk carries the
    citations. ``next_piece`` runs ``next(chunks, None)`` off the event loop. An error after
    the first event is reported in the stream, typed as the status it would have had."""
    try:
        yield _chunk(head, {"role": "assistant", "content": ""})
        parts, last = [], None
        async for text, end in pieces(stream, next_piece):
            if text:
                parts.append(text)
                yield _chunk(head, {"content": text})
            last = end or last
        text = "".join(parts)
        citations = [CitationOut.of(c, links) for c in stream.cite(text)]
        notes = sources.url_citations(text, citations)
        found = bool(stream.request.evidence)
        tail = sources.footer(citations, stream.request.question) if with_footer and found else ""
        if tail:  # the last content chunk: the sources list, with the annotations
            yield _chunk(head, {"content": tail,
                                "annotations": [a.model_dump() for a in notes]})
        finish = (last.finish_reason if last is not None else None) or "stop"
        yield _chunk(head, {} if tail or not notes else
                     {"annotations": [a.model_dump() for a in notes]}, finish,
                     citations=citations,
                     mmrag=MmragInfo(generator=stream.generator, notes=stream.notes,
                                     found=found, answerability=stream.answerability))
        if include_usage:
            usage = UsageOut.of(last.usage if last is not None else None)
            yield ChatCompletionChunk(**head.fields(), choices=[], usage=usage).sse()
        yield SSE_DONE
    except Exception as e:  # the status line is gone: report in the stream, as OpenAI does
        _, body = describe(e)
        yield sse(body)


def embeddings(body: EmbeddingRequest, service: RagService) -> EmbeddingList:
    raw = [body.input] if isinstance(body.input, str) else list(body.input)
    if raw and not all(isinstance(t, str) for t in raw):
        raise InvalidInput("input holds token ids, which this server cannot read: it embeds "
                           "text with its own model's tokenizer. Send the text (LangChain: "
                           "OpenAIEmbeddings(..., check_embedding_ctx_length=False))")
    texts = [clean_text(str(t), f"input[{i}]") for i, t in enumerate(raw)]
    if not texts:
        raise InvalidInput("input must be a string or a non-empty list of strings")
    if len(texts) > MAX_EMBEDDING_INPUTS:
        raise TooLarge(f"{len(texts)} inputs, over the limit of {MAX_EMBEDDING_INPUTS}")
    # any model name is the configured text model (clients send their own defaults, such
    # as text-embedding-3-small); the response names the model that ran
    model = service.status()["text_model"]
    vecs, tokens = service.embed_texts(texts)
    if body.dimensions is not None and body.dimensions != vecs.shape[1]:
        raise InvalidInput(f"dimensions={body.dimensions} cannot be given: {model!r} makes "
                           f"{vecs.shape[1]}-dimensional vectors; leave dimensions out")
    data = []
    for i, v in enumerate(vecs):
        emb: list[float] | str = (
            base64.b64encode(np.asarray(v, dtype="<f4").tobytes()).decode()
            if body.encoding_format == "base64" else [float(x) for x in v])
        data.append(Embedding(index=i, embedding=emb))
    return EmbeddingList(data=data, model=model,
                         usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))
