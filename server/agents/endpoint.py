"""The /mcp endpoint of the FastAPI app, made while the server starts. Importing the MCP SDK
takes about half a second of a start; made on a thread as the lifespan begins, that runs
while the models' question encoders load (native work), instead of before it. The lifespan
then waits for it and runs its session manager."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class McpEndpoint:
    """An ASGI app for the route /mcp: the MCP server's, once ``running``."""

    def __init__(self, app: Any):
        self.app = app
        self._made: tuple[Any, Any] | None = None  # (MCPServer, its ASGI endpoint)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Import the SDK and build the server on a thread."""
        self._thread = threading.Thread(target=self._make, name="mmrag-mcp", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            from .mcp_app import http_endpoint

            self._made = http_endpoint(self.app)
        except BaseException as e:  # raised again in the lifespan, where it stops the start
            self._error = e

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        import anyio

        if self._thread is None:
            self.start()
        assert self._thread is not None
        await anyio.to_thread.run_sync(self._thread.join)
        if self._error is not None:
            raise RuntimeError(f"the MCP server could not be made: {self._error}") \
                from self._error
        assert self._made is not None
        async with self._made[0].session_manager.run():
            yield

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._made is None:
            from starlette.responses import JSONResponse

            await JSONResponse({"error": {"message": "the MCP server is starting",
                                          "type": "unavailable_error"}}, 503)(
                scope, receive, send)
            return
        await self._made[1](scope, receive, send)
