"""Request ids, structured access logs, Prometheus metrics and the request-body limit, as one
ASGI middleware (pure ASGI, so streamed responses pass through untouched)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .errors import describe
from .guards import is_json, json_values, read_body, refused_key, replay

log = logging.getLogger("mmrag.access")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record, so any line can be traced to its request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """One line per record, with the request id, for ``mmrag serve``."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
MODEL_PATHS = {"/v1/query", "/v1/chat/completions", "/v1/embeddings", "/v1/responses",
               "/v1/completions"}
_REQUEST_ID = re.compile(r"^[\w.-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """One registry per app, so that two apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("mmrag_http_requests_total", "HTTP requests",
                                ["method", "endpoint", "status"], registry=r)
        self.latency = Histogram("mmrag_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.retrieval = Histogram("mmrag_retrieval_seconds", "embedding + search + fusion",
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.generation = Histogram("mmrag_generation_seconds", "answer generation",
                                    ["generator"], buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("mmrag_queue_depth", "requests waiting for or using a model "
                                 "worker", registry=r)
        self.rejected = Counter("mmrag_overload_rejections_total",
                                "requests refused because the queue was full", registry=r)
        self.ingested = Counter("mmrag_ingested_items_total", "items written by ingestion",
                                ["modality"], registry=r)


def _json_error(message: str, code: str, type_: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "code": code}}).encode()


class RequestMiddleware:
    def __init__(self, app: Any, metrics: Metrics, max_body: int,
                 max_json_values: int = 50_000):
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.max_json_values = max_json_values

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        if not _REQUEST_ID.match(rid):
            rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id.set(rid)
        start = time.perf_counter()
        ex = _Exchange(rid, receive, send, self.max_body, self._reject)
        try:
            await self._handle(scope, headers, ex)
        except _BodyTooLarge:
            if not ex.answered:
                ex.answered = True
                await self._reject(ex.send, ex.received)
        finally:
            self._record(scope, rid, ex.status, time.perf_counter() - start)
            request_id.reset(token)

    async def _handle(self, scope: dict, headers: dict[str, str], ex: _Exchange) -> None:
        """Refuse what must be refused before any work (a body over the limit, a bad key, a
        full queue, a JSON body of too many values); pass the rest to the app."""
        length = headers.get("content-length")
        busy = self._busy(scope)
        if length and length.isdigit() and int(length) > self.max_body:
            await self._reject(ex.send, int(length))
        elif (denied := refused_key(scope, headers)) is not None:
            code, error = describe(denied)  # the one error table, as the routes use
            await _send_json(ex.send, code, json.dumps(error).encode(),
                             [(b"www-authenticate", b"Bearer")])
        elif busy is not None:
            await self._overloaded(ex.send, busy)
        elif scope["method"] == "POST" and is_json(headers):
            body = await read_body(ex.receive)
            values = json_values(body, self.max_json_values)
            if values > self.max_json_values:
                await _send_json(ex.send, 413, _json_error(
                    f"the JSON body holds about {values:,} values, over the limit of "
                    f"{self.max_json_values:,} (MMRAG_SERVER__MAX_JSON_VALUES)",
                    "request_too_large"))
            else:
                await self.app(scope, replay(body, ex.raw_receive), ex.send_from_app)
        else:
            await self.app(scope, ex.receive, ex.send_from_app)

    def _record(self, scope: dict, rid: str, status: int, elapsed: float) -> None:
        """The request's metrics and its access-log line."""
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(scope["method"], endpoint, str(status)).inc()
        self.metrics.latency.labels(scope["method"], endpoint).observe(elapsed)
        agent = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                      if k == b"user-agent"), "")
        log.info(json.dumps({"request_id": rid, "method": scope["method"],
                             "path": scope["path"], "endpoint": endpoint,
                             "status": status, "ms": round(elapsed * 1000, 1),
                             "user_agent": agent[:200]}))

    @staticmethod
    def _busy(scope: dict) -> Any:
        """Overloaded, for a model request that arrives while every place is taken: refused
        before its body is read or any work is done."""
        if scope["method"] != "POST" or scope["path"] not in MODEL_PATHS:
            return None
        worker = getattr(getattr(scope.get("app"), "state", None), "worker", None)
        return worker.overloaded() if worker is not None and worker.full() else None

    async def _overloaded(self, send: Any, exc: Any) -> None:
        await _send_json(send, 503, _json_error(str(exc), exc.code, "overloaded_error"),
                         [(b"retry-after", str(exc.retry_after).encode())])

    async def _reject(self, send: Any, size: int) -> None:
        await _send_json(send, 413, _json_error(
            f"request body of {size:,}+ bytes is over the limit of {self.max_body:,} "
            "(MMRAG_SERVER__MAX_REQUEST_BYTES)", "request_too_large"))


async def _send_json(send: Any, status: int, body: bytes,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class _Exchange:
    """One request's side of the middleware: its id on the response, the status sent, and
    the body counted as it is received (over ``max_body``: ``_BodyTooLarge``, answered 413
    once, whatever the app sends after)."""

    def __init__(self, rid: str, receive: Any, send: Any, max_body: int,
                 reject: Callable[[Any, int], Awaitable[None]]):
        self.rid = rid
        self.raw_receive = receive
        self.raw_send = send
        self.max_body = max_body
        self.reject = reject
        self.status = 500
        self.received = 0
        self.exceeded = False
        self.answered = False

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", []),
                                  (b"x-request-id", self.rid.encode())]
        await self.raw_send(message)

    async def send_from_app(self, message: dict) -> None:
        if self.answered:
            return  # the 413 went out; whatever the app says after it is dropped
        if message["type"] == "http.response.start" and self.exceeded:
            self.answered = True  # the app caught the overflow and answered: 413
            await self.reject(self.send, self.received)
            return
        await self.send(message)

    async def receive(self) -> dict:
        message = await self.raw_receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.max_body:
                self.exceeded = True
                raise _BodyTooLarge()
        return message
