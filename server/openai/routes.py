"""OpenAI-compatible routes: chat completions (plain, or streamed as server-sent events) and
embeddings. Each parses, calls ``serving`` on the worker pool and returns its shape."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from ..deps import LinksDep, MetricsDep, PrincipalDep, ServiceDep, SettingsDep, WorkerDep
from ..routes import observe
from ..schemas import COMMON_ERRORS, NOT_FOUND, STREAM_RESPONSES
from . import serving, sources
from .protocol import ChatCompletion, ChatRequest, EmbeddingList, EmbeddingRequest

router = APIRouter(responses=COMMON_ERRORS)


@router.post("/v1/chat/completions", response_model=None,
             responses={**STREAM_RESPONSES, **NOT_FOUND})
async def chat_completions(body: ChatRequest, request: Request, service: ServiceDep,
                           settings: SettingsDep,
                           work: WorkerDep, who: PrincipalDep, metrics: MetricsDep,
                           link_maker: LinksDep) -> ChatCompletion | StreamingResponse:
    generator = serving.generator_for(body.model, settings)
    collection = who.collection(body.collection, settings.default_collection)
    links = link_maker.for_collection(collection)
    head = serving.Head(body.model)
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
            include_usage = bool(body.stream_options and body.stream_options.include_usage)

            async def events() -> AsyncIterator[bytes]:
                try:
                    async for event in serving.stream_events(
                            stream, head, service, links,
                            lambda chunks: work.run(next, chunks, None), include_usage,
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
    return serving.completion(answer, head, links, with_footer)


@router.post("/v1/embeddings", responses=NOT_FOUND)
async def embeddings(body: EmbeddingRequest, service: ServiceDep, work: WorkerDep,
                     _: PrincipalDep) -> EmbeddingList:
    return await work(serving.embeddings, body, service)
