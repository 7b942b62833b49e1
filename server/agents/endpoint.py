"""The /mcp endpoint of a server, built on its first request: importing the MCP SDK is a
large part of a replica's start, for a route many replicas never serve. The first
request with a valid key imports it off the event loop, starts the SDK's session manager in a
task of its own (stopped with the app), and every request then goes to the SDK's endpoint."""

from __future__ import annotations

import asyncio
from typing import Any

from rag.errors import Unauthorized

from ..auth import KeyStore
from ..errors import describe


class McpEndpoint:
    """Every request shows a valid key first, when keys are configured: a GET opens an event
    stream, which anyone could otherwise hold open without one."""

    def __init__(self, app: Any):
        self.app = app
        self._inner: Any = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        keys: KeyStore | None = self.app.state.keys
        if keys is not None:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope["headers"]}
            try:
                keys.check(headers.get("authorization"))
            except Unauthorized as e:
                from starlette.responses import JSONResponse

                status, body = describe(e)
                await JSONResponse(body, status, headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, send)
                return
        if self._inner is None:
            async with self._lock:
                if self._inner is None:
                    await self._start()
        await self._inner(scope, receive, send)

    async def _start(self) -> None:
        from .mcp_app import http_endpoint

        server, endpoint = await asyncio.to_thread(http_endpoint, self.app)
        started = asyncio.Event()

        async def run() -> None:
            async with server.session_manager.run():
                started.set()
                await self._stop.wait()

        self._task = asyncio.create_task(run(), name="mmrag-mcp")
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait([self._task, waiting], return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():  # the session manager failed to start: say why
            waiting.cancel()
            self._task.result()
        self._inner = endpoint

    async def close(self) -> None:
        """Stop the session manager, if a request started it (the app may start again)."""
        self._stop.set()
        if self._task is not None:
            await self._task
        self._inner, self._task, self._stop = None, None, asyncio.Event()
