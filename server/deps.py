"""Dependencies that handlers declare with ``Annotated`` aliases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from ingest.pipeline import Ingestor
from rag.service import RagService
from rag.settings import Settings

T = TypeVar("T")


def _service(request: Request) -> RagService:
    return request.app.state.service


def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


def _settings(request: Request) -> Settings:
    return request.app.state.settings


class Worker:
    """Runs blocking model and store work on the bounded inference pool, never on the event
    loop."""

    def __init__(self, pool: ThreadPoolExecutor):
        self.pool = pool

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)


def _worker(request: Request) -> Worker:
    return Worker(request.app.state.pool)


ServiceDep = Annotated[RagService, Depends(_service)]
IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
SettingsDep = Annotated[Settings, Depends(_settings)]
WorkerDep = Annotated[Worker, Depends(_worker)]
