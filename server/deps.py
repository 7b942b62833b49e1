"""Dependencies that handlers declare with ``Annotated`` aliases."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request

from ingest.pipeline import Ingestor
from rag.errors import Overloaded, Unauthorized
from rag.service import RagService
from rag.settings import COLLECTION_PATTERN, Settings

from .auth import LOCAL, KeyStore, Principal
from .jobs import Jobs
from .links import LinkMaker, verify
from .observability import Metrics

T = TypeVar("T")
CollectionParam = Annotated[str | None, Query(
    description="collection name, case-insensitive; default 'default'",
    json_schema_extra={"pattern": COLLECTION_PATTERN})]


class Worker:
    """Runs blocking model and store work on the bounded inference pool, never on the event
    loop. Admission is bounded too: past ``workers + max_queue`` requests in flight, new ones
    get 503 with Retry-After instead of piling up in memory. Retry-After is the time the
    requests ahead need to drain, from the measured time a request holds its place."""

    def __init__(self, pool: ThreadPoolExecutor, workers: int, max_queue: int, metrics: Metrics):
        self.pool = pool
        self.workers = workers
        self.limit = workers + max_queue
        self.metrics = metrics
        self.in_flight = 0
        self.held_s = 0.5  # moving average of the time a request holds its place

    def full(self) -> bool:
        return self.in_flight >= self.limit

    def overloaded(self) -> Overloaded:
        self.metrics.rejected.inc()
        wait = math.ceil((self.in_flight - self.limit + 1) * self.held_s / self.workers)
        return Overloaded(f"the server is busy ({self.in_flight} requests in flight, the "
                          f"limit is {self.limit}); retry shortly",
                          retry_after=max(1, min(wait, 600)))

    def enter(self) -> float:
        """Take a place, or raise Overloaded. Pair with ``leave``."""
        if self.full():
            raise self.overloaded()
        self.in_flight += 1
        self.metrics.queue_depth.set(self.in_flight)
        return time.monotonic()

    def leave(self, entered: float | None = None) -> None:
        self.in_flight -= 1
        self.metrics.queue_depth.set(self.in_flight)
        if entered is not None:
            self.held_s = 0.8 * self.held_s + 0.2 * (time.monotonic() - entered)

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        entered = self.enter()
        try:
            yield
        finally:
            self.leave(entered)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        async with self.admit():
            return await self.run(fn, *args)


# The dependencies are ``async``: each only reads the app's state (keys are checked in
# memory), and FastAPI runs a plain ``def`` dependency in its thread pool, one thread hop
# each, seven for a question (11% of the time the loaded server held the GIL).
async def _service(request: Request) -> RagService:
    return request.app.state.service


async def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _worker(request: Request) -> Worker:
    return request.app.state.worker


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs


async def _principal(request: Request,
                     authorization: Annotated[str | None, Header()] = None) -> Principal:
    keys: KeyStore | None = request.app.state.keys
    return LOCAL if keys is None else keys.check(authorization)


async def _links(request: Request) -> LinkMaker:
    settings: Settings = request.app.state.settings
    keys: KeyStore | None = request.app.state.keys
    base = (settings.server.public_url or str(request.base_url)).rstrip("/")
    return LinkMaker(base, settings.default_collection,
                     keys.link_secret if keys is not None else None,
                     settings.server.link_seconds)


async def _principal_or_link(request: Request, item_id: str,
                             authorization: Annotated[str | None, Header()] = None,
                             collection: CollectionParam = None, expires: str | None = None,
                             sig: str | None = None) -> Principal:
    """The key, as everywhere; or, for an image or a passage, a signed link (what a person
    clicking a source in a chat client has)."""
    keys: KeyStore | None = request.app.state.keys
    if keys is None:
        return LOCAL
    if authorization or sig is None:
        return keys.check(authorization)
    kind = request.url.path.split("/")[2]  # /v1/images/... or /v1/items/...
    name = collection or request.app.state.settings.default_collection
    if not verify(keys.link_secret, kind, item_id, name, expires, sig):
        raise Unauthorized("this link is not valid or has expired: ask again for a fresh "
                           "one, or send 'Authorization: Bearer <key>'")
    return Principal("signed-link", frozenset({name}))


ServiceDep = Annotated[RagService, Depends(_service)]
IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
SettingsDep = Annotated[Settings, Depends(_settings)]
WorkerDep = Annotated[Worker, Depends(_worker)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
JobsDep = Annotated[Jobs, Depends(_jobs)]
PrincipalDep = Annotated[Principal, Depends(_principal)]
LinkPrincipalDep = Annotated[Principal, Depends(_principal_or_link)]
LinksDep = Annotated[LinkMaker, Depends(_links)]
