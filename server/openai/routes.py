"""OpenAI-compatible routes: chat completions, the Responses API and legacy completions
(plain, or streamed as server-sent events), and embeddings. The three answering endpoints
share one path (``Answering.respond``): admission, the query, the answer or the stream; each
renders its own wire shape (a ``Renderer``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from rag.schema import Answer
from rag.service import Stream

from ..deps import LinksDep, MetricsDep, PrincipalDep, ServiceDep, SettingsDep, WorkerDep
from ..links import Links
from ..routes import observe
from ..schemas import COMMON_ERRORS, NOT_FOUND, STREAM_RESPONSES
from . import formats, serving, sources
from .protocol import ChatRequest, EmbeddingList, EmbeddingRequest

router = APIRouter(responses=COMMON_ERRORS)


class Renderer(Protocol):
    """One wire shape of an answer: whole, or as server-sent events of a stream."""

    def whole(self, answer: Answer, links: Links, footer: bool) -> Any: ...

    def events(self, stream: Stream, links: Links, next_piece: Any,
               footer: bool) -> AsyncIterator[bytes]: ...


class Answering:
    """What the answering endpoints share, as one dependency: the service, the settings,
    the request workers, the caller and its links, the metrics."""

    def __init__(self, request: Request, service: ServiceDep, settings: SettingsDep,
                 work: WorkerDep, who: PrincipalDep, metrics: MetricsDep,
                 link_maker: LinksDep):
        self.request, self.service, self.settings = request, service, settings
        self.work, self.who, self.metrics, self.link_maker = work, who, metrics, link_maker

    async def respond(self, body: ChatRequest, render: Renderer) -> Any:
        """Admission first, before anything waits for a worker; then the query, and the
        answer or the stream. A stream keeps its place until its last event; retrieval and
        the start of generation happen before the response starts, so their errors still
        become proper HTTP errors."""
        settings, work = self.settings, self.work
        collection = self.who.collection(body.collection, settings.default_collection)
        links = self.link_maker.for_collection(collection)
        footer = sources.wants_footer(settings.server.sources_footer, body.sources_footer,
                                      self.request.headers.get("user-agent", ""))
        generator = serving.generator_for(body.model, settings)
        entered = work.enter()
        try:
            query = await work.run(serving.to_query, body, settings, collection)
            if body.stream:
                stream = await work.run(self.service.stream, query, generator,
                                        serving.options(body))
            else:
                answer = await work.run(self.service.answer, query, generator,
                                        serving.options(body))
        except BaseException:
            work.leave(entered)
            raise
        if body.stream:
            observe(self.metrics, stream.timings_ms, stream.generator)  # no generate_ms yet
            return StreamingResponse(self._events(stream, render, links, footer),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache",
                                              "X-Accel-Buffering": "no"})
        work.leave(entered)
        observe(self.metrics, answer.timings_ms, answer.generator)
        return render.whole(answer, links, footer)

    async def _events(self, stream: Stream, render: Renderer, links: Links,
                      footer: bool) -> AsyncIterator[bytes]:
        try:
            async for event in render.events(
                    stream, links, lambda chunks: self.work.run(next, chunks, None), footer):
                yield event
        finally:
            close = getattr(stream.chunks, "close", None)
            if close:
                close()  # stops a local model's generation thread
            self.work.leave()


AnsweringDep = Annotated[Answering, Depends()]


@dataclass
class _Chat:
    head: serving.Head
    include_usage: bool

    def whole(self, answer: Answer, links: Links, footer: bool) -> Any:
        return serving.completion(answer, self.head, links, footer)

    def events(self, stream: Stream, links: Links, next_piece: Any,
               footer: bool) -> AsyncIterator[bytes]:
        return serving.stream_events(stream, self.head, links, next_piece, self.include_usage,
                                     footer)


@dataclass
class _Response:
    model: str

    def whole(self, answer: Answer, links: Links, footer: bool) -> Any:
        return formats.response(answer, self.model, links)

    def events(self, stream: Stream, links: Links, next_piece: Any,
               footer: bool) -> AsyncIterator[bytes]:
        return formats.response_events(stream, self.model, links, next_piece)


@dataclass
class _Completion:
    model: str

    def whole(self, answer: Answer, links: Links, footer: bool) -> Any:
        return formats.completion(answer, self.model, links, footer)

    def events(self, stream: Stream, links: Links, next_piece: Any,
               footer: bool) -> AsyncIterator[bytes]:
        return formats.completion_events(stream, self.model, links, next_piece, footer)


@router.post("/v1/chat/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def chat_completions(body: ChatRequest, answering: AnsweringDep) -> Any:
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return await answering.respond(body, _Chat(serving.Head(body.model), include_usage))


@router.post("/v1/responses", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def responses(body: formats.ResponsesRequest, answering: AnsweringDep) -> Any:
    """The Responses API: the output text carries url_citation annotations."""
    return await answering.respond(body.as_chat(), _Response(body.model))


@router.post("/v1/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def completions(body: formats.CompletionRequest, answering: AnsweringDep) -> Any:
    """Legacy completions: the prompt is the question; sources come as the Markdown list."""
    return await answering.respond(body.as_chat(), _Completion(body.model))


@router.post("/v1/embeddings", responses=NOT_FOUND)
async def embeddings(body: EmbeddingRequest, service: ServiceDep, work: WorkerDep,
                     _: PrincipalDep) -> EmbeddingList:
    return await work(serving.embeddings, body, service)
