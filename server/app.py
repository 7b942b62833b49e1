"""create_app(settings): the FastAPI application. The service is built in the lifespan, kept
on app.state, and its models are loaded before the first request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI

import rag
from ingest.pipeline import Ingestor
from rag.service import RagService
from rag.settings import Settings

from . import errors
from .routes import router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or RagService(settings)
        app.state.settings = settings
        app.state.service = svc
        app.state.ingestor = Ingestor(svc)
        app.state.pool = ThreadPoolExecutor(settings.server.workers,
                                            thread_name_prefix="mmrag-infer")
        svc.warm_up()
        if svc.clip_error:
            log.warning("serving without image search: %s", svc.clip_error)
        try:
            yield
        finally:
            app.state.pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="mmrag", version=rag.__version__, lifespan=lifespan,
                  summary="Multimodal RAG: questions over text and images, with citations.")
    errors.install(app)
    app.include_router(router)
    return app
