"""create_app(settings): the FastAPI application. The service is built in the lifespan, kept
on app.state, and its models are loaded before the first request."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import Route

import rag
from ingest.pipeline import Ingestor
from rag.answer.generators import REGISTRY
from rag.errors import RagError
from rag.service import RagService
from rag.settings import Settings
from rag.store.db import Process

from . import errors
from .agents.endpoint import McpEndpoint
from .auth import KeyStore
from .deps import Worker
from .jobs import Jobs
from .observability import Metrics, RequestMiddleware
from .openai.routes import router as openai_router
from .openai.serving import DEFAULT_MODELS
from .routes import router
from .web import router as web_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    keys = (KeyStore.load(settings.api_keys_file, settings.server.keys_reload_seconds)
            if settings.api_keys_file else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.metrics = metrics
        app.state.keys = keys
        async with _serving(app, settings, service):
            try:
                yield
            finally:
                await mcp.close()

    app = FastAPI(title="mmrag", version=rag.__version__, lifespan=lifespan,
                  summary="Multimodal RAG: questions over text and images, with citations.")
    app.state.configured = settings
    _document_limits(app, settings)
    errors.install(app)
    app.include_router(router)
    app.include_router(openai_router)
    app.include_router(web_router)
    mcp = McpEndpoint(app)  # the knowledge base for agents, at /mcp (built on first use)
    app.router.routes.append(Route("/mcp", endpoint=mcp))
    app.add_middleware(RequestMiddleware, metrics=metrics,
                       max_body=settings.server.max_request_bytes,
                       max_json_values=settings.server.max_json_values)
    return app


@asynccontextmanager
async def _serving(app: FastAPI, settings: Settings, service: RagService | None
                   ) -> AsyncIterator[None]:
    """The service, its ingestor, jobs and request workers on ``app.state`` while the app
    serves; the models warmed up before it says ready."""
    svc = service or RagService.from_settings(settings)
    app.state.settings = settings
    app.state.service = svc
    # this replica, in the shared database: its claims and jobs lapse if it dies
    me = Process(svc.parts.db, "server", settings.heartbeat_seconds).start()
    app.state.ingestor = Ingestor(svc, owner=me.id)
    app.state.jobs = Jobs(app.state.ingestor, svc.parts.db, me.id,
                          settings.server.job_workers, settings.server.max_queued_jobs,
                          settings.server.max_queued_bytes)
    pool = ThreadPoolExecutor(settings.server.workers, thread_name_prefix="mmrag-infer")
    app.state.worker = Worker(pool, settings.server.workers, settings.server.max_queue,
                              app.state.metrics)
    if app.state.keys is None:
        log.warning("NO API KEYS CONFIGURED: local development mode, every request is "
                    "allowed and sees every collection. Set MMRAG_API_KEYS_FILE before "
                    "exposing this server.")
    svc.warm_up()
    app.state.ready = True  # the models are loaded; /readyz checks the engines
    stop = _housekeeping(app.state.ingestor, settings)
    if svc.images_error:
        log.warning("serving without image search: %s", svc.images_error)
    try:
        yield
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        app.state.jobs.shutdown()
        me.stop()


def _housekeeping(ingestor: Ingestor, settings: Settings) -> threading.Event:
    """Work nothing waits for, behind the ready server: image copies left by a process killed
    mid-write (it reads every item's metadata, ~1 s at 11,000 items), and the export cache's
    pruning (at start and daily, until the returned event is set)."""
    threading.Thread(target=_collect_orphans, args=(ingestor,), name="mmrag-orphans",
                     daemon=True).start()
    stop = threading.Event()
    threading.Thread(target=_prune_exports, args=(settings, stop), name="mmrag-cache",
                     daemon=True).start()
    return stop


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """The spec states the limits this server was started with, not only the defaults."""
    build = app.openapi

    def openapi() -> dict:
        schema = build()  # made once and cached by FastAPI; the edits below are idempotent
        models = schema["components"]["schemas"]
        models["QueryRequest"]["properties"]["question"]["maxLength"] = \
            settings.server.max_question_chars
        # the models and generators that exist (any other name is a 404)
        names = sorted({*DEFAULT_MODELS, *REGISTRY})
        for shape in ("ChatRequest", "CompletionRequest", "ResponsesRequest"):
            models[shape]["properties"]["model"]["enum"] = names
        models["QueryRequest"]["properties"]["generator"]["anyOf"][0]["enum"] = sorted(REGISTRY)
        upload = models["Body_ingest_v1_ingest_post"]["properties"]["files"]
        upload.update(minItems=1)
        upload["items"].update(format="binary")  # how OpenAPI tools know a file part
        service = getattr(app.state, "service", None)
        if service is not None:  # the one size of vector /v1/embeddings can give
            dimensions = models["EmbeddingRequest"]["properties"]["dimensions"]
            dimensions["anyOf"][0]["enum"] = [service.parts.text.dimension]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _prune_exports(settings: Settings, stop: threading.Event) -> None:
    """The export cache kept to its bounds (``rag.embedders.cache``): once the question path
    is ready, then daily."""
    from rag.embedders import cache, exports

    bounds = settings.caches
    while True:
        try:
            cache.prune(settings.cache_dir or exports.default_cache_dir(),
                        bounds.export_keep_days, bounds.export_max_bytes)
        except OSError as e:  # a cache on a read-only or vanished disk: serve anyway
            log.warning("could not prune the export cache: %s", e)
        if stop.wait(86400):
            return


def _collect_orphans(ingestor: Ingestor) -> None:
    try:
        ingestor.collect_orphans()
    except RagError as e:  # an engine away: serve anyway, /readyz says what is missing
        log.warning("not ready yet: %s", e)
