"""OpenAI-compatible routes: chat completions, the Responses API and legacy completions
(plain, or streamed as server-sent events), and embeddings. The three answering endpoints
share one path (``_respond``): admission, the query, the answer or the stream; each renders
its own wire shape."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
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
Render = Callable[[Answer, Links, bool], Any]
RenderStream = Callable[[Stream, Links, Any, bool], AsyncIterator[bytes]]


async def _respond(body: ChatRequest, request: Request, service: ServiceDep,
                   settings: SettingsDep, work: WorkerDep, who: PrincipalDep,
                   metrics: MetricsDep, link_maker: LinksDep, render: Render,
                   render_stream: RenderStream) -> Any:
    generator = serving.generator_for(body.model, settings)
    collection = who.collection(body.collection, settings.default_collection)
    links = link_maker.for_collection(collection)
    with_footer = sources.wants_footer(settings.server.sources_footer, body.sources_footer,
                                       request.headers.get("user-agent", ""))
    # Admission first, before anything waits for a worker. A stream keeps its place until
    # its last event; retrieval and the start of generation happen before the response
    # starts, so their errors still become proper HTTP errors.
    entered = work.enter()
    streaming = False
    try:
        query = await work.run(serving.to_query, body, settings, collection)
        if body.stream:
            stream = await work.run(service.stream, query, generator, serving.options(body))
            observe(metrics, stream.timings_ms, stream.generator)  # retrieval; no generate_ms

            async def events() -> AsyncIterator[bytes]:
                try:
                    async for event in render_stream(
                            stream, links, lambda chunks: work.run(next, chunks, None),
                            with_footer):
                        yield event
                finally:
                    close = getattr(stream.chunks, "close", None)
                    if close:
                        close()  # stops a local model's generation thread
                    work.leave()

            streaming = True
            return StreamingResponse(events(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache",
                                              "X-Accel-Buffering": "no"})
        answer = await work.run(service.answer, query, generator, serving.options(body))
    finally:
        if not streaming:
            work.leave(entered)
    observe(metrics, answer.timings_ms, answer.generator)
    return render(answer, links, with_footer)


@router.post("/v1/chat/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def chat_completions(body: ChatRequest, request: Request, service: ServiceDep,
                           settings: SettingsDep, work: WorkerDep, who: PrincipalDep,
                           metrics: MetricsDep, link_maker: LinksDep) -> Any:
    head = serving.Head(body.model)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return await _respond(
        body, request, service, settings, work, who, metrics, link_maker,
        lambda a, links, footer: serving.completion(a, head, links, footer),
        lambda s, links, nxt, footer: serving.stream_events(s, head, service, links, nxt,
                                                            include_usage, footer))


@router.post("/v1/responses", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def responses(body: formats.ResponsesRequest, request: Request, service: ServiceDep,
                    settings: SettingsDep, work: WorkerDep, who: PrincipalDep,
                    metrics: MetricsDep, link_maker: LinksDep) -> Any:
    """The Responses API: the output text carries url_citation annotations."""
    return await _respond(
        body.as_chat(), request, service, settings, work, who, metrics, link_maker,
        lambda a, links, _: formats.response(a, body.model, links),
        lambda s, links, nxt, _: formats.response_events(s, body.model, service, links, nxt))


@router.post("/v1/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def completions(body: formats.CompletionRequest, request: Request, service: ServiceDep,
                      settings: SettingsDep, work: WorkerDep, who: PrincipalDep,
                      metrics: MetricsDep, link_maker: LinksDep) -> Any:
    """Legacy completions: the prompt is the question; sources come as the Markdown list."""
    return await _respond(
        body.as_chat(), request, service, settings, work, who, metrics, link_maker,
        lambda a, links, footer: formats.completion(a, body.model, links, footer),
        lambda s, links, nxt, footer: formats.completion_events(s, body.model, service, links,
                                                                nxt, footer))


@router.post("/v1/embeddings", responses=NOT_FOUND)
async def embeddings(body: EmbeddingRequest, service: ServiceDep, work: WorkerDep,
                     _: PrincipalDep) -> EmbeddingList:
    return await work(serving.embeddings, body, service)
