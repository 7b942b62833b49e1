"""The MCP server: tools and resources registered on an MCPServer, served over streamable
HTTP inside the FastAPI app (/mcp) or over stdio (``mmrag mcp``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from ingest.pipeline import Ingestor
from rag.errors import NotFound, RagError
from rag.service import RagService
from rag.settings import Settings

from ..auth import LOCAL, KeyStore, Principal
from ..errors import describe
from .tools import (
    MAX_DOCUMENTS,
    Backend,
    CollectionArg,
    ImageArg,
    Tools,
    document_text,
    http_principal,
    message,
)


def build(backend: Callable[[], Backend], name: str = "mmrag") -> MCPServer:
    """An MCPServer whose tools and resources work on ``backend()``."""
    tools = Tools(backend)
    server = MCPServer(name, instructions=(
        "mmrag: a knowledge base of documents and pictures. search finds passages and "
        "pictures (both channels, one ranking); answer gives a cited answer; fetch opens "
        "what a hit or citation points at; list_collections and list_documents show what "
        "is there."))
    _add_tools(server, tools)
    _add_resources(server, tools)
    return server


async def guarded(work: Awaitable[Any], resource: bool = False) -> Any:
    """``work``'s result; a RagError as the HTTP error table says it: a tool error with its
    message, status and body, or for a resource the MCP error for not found or failed."""
    try:
        return await work
    except RagError as e:
        if not resource:
            status, body = describe(e)
            return CallToolResult(content=[TextContent(type="text", text=message(e))],
                                  structured_content={**body, "status": status},
                                  is_error=True)
        missing = isinstance(e, NotFound)
        raise (ResourceNotFoundError if missing else ResourceError)(message(e)) from None


def _add_tools(server: MCPServer, tools: Tools) -> None:
    @server.tool(description="Search the knowledge base. Returns the best passages and "
                 "pictures, ranked together: each with its source, place (page, slide, time), "
                 "score and a link; pictures as images with the text read in them.")
    async def search(
        ctx: Context,
        query: Annotated[str, Field("", description="what to look for, in words")] = "",
        collection: CollectionArg = None,
        top_k: Annotated[int, Field(5, ge=1, le=50, description="how many hits")] = 5,
        image: ImageArg = None,
    ) -> CallToolResult:
        return await guarded(tools.search(ctx, query, collection, top_k, image))  # type: ignore[no-any-return]

    @server.tool(description="Answer a question from the knowledge base, with numbered "
                 "citations (source, place, link). found is false when the knowledge base "
                 "does not answer it.")
    async def answer(
        ctx: Context,
        question: Annotated[str, Field(description="the question")],
        collection: CollectionArg = None,
        image: ImageArg = None,
    ) -> CallToolResult:
        return await guarded(tools.answer(ctx, question, collection, image))  # type: ignore[no-any-return]

    @server.tool(description="The collections this key may use.")
    async def list_collections(ctx: Context) -> dict[str, Any]:
        return await guarded(tools.list_collections(ctx))  # type: ignore[no-any-return]

    @server.tool(description="The documents of a collection (id, source, kind, chunks, "
                 f"pictures), at most {MAX_DOCUMENTS}; filter keeps those whose name "
                 "contains it.")
    async def list_documents(
        ctx: Context,
        collection: CollectionArg = None,
        filter: Annotated[str | None, Field(None, description="part of a document's name, "
                                            "case-insensitive")] = None,
    ) -> dict[str, Any]:
        return await guarded(tools.list_documents(ctx, collection, filter))  # type: ignore[no-any-return]

    @server.tool(description="Open an item a hit or a citation points at, by its id: the "
                 "passage's text, or the picture (with its text), or the PDF page it is on.")
    async def fetch(
        ctx: Context,
        id: Annotated[str, Field(description="an item id from search or answer")],
        collection: CollectionArg = None,
    ) -> CallToolResult:
        return await guarded(tools.fetch(ctx, id, collection))  # type: ignore[no-any-return]

    del search, answer, list_collections, list_documents, fetch


def _add_resources(server: MCPServer, tools: Tools) -> None:
    @server.resource("mmrag://{collection}/items/{item_id}", mime_type="text/plain",
                     description="A passage, or the text read in a picture, with its source")
    async def item(collection: str, item_id: str, ctx: Context) -> str:
        result = await guarded(tools.fetch(ctx, item_id, collection), resource=True)
        return str(result.content[0].text)

    @server.resource("mmrag://{collection}/documents/{doc_id}", mime_type="text/plain",
                     description="A document's text, passage by passage")
    async def document(collection: str, doc_id: str, ctx: Context) -> str:
        return await guarded(document_text(tools.b, ctx, collection, doc_id), resource=True)  # type: ignore[no-any-return]

    del item, document


def http_endpoint(app: Any) -> tuple[MCPServer, Any]:
    """The MCP server of a FastAPI app, and its ASGI endpoint for /mcp (``endpoint``): stateless
    streamable HTTP with JSON replies, so any replica answers any request. Its session manager
    must run while requests come (``server.session_manager.run()``). DNS-rebinding protection
    (Host and Origin checked) is on when the server listens on a loopback address, as the SDK
    does."""
    from mcp.server.transport_security import TransportSecuritySettings

    def backend() -> Backend:
        state = app.state
        settings: Settings = state.settings

        def base(ctx: Context) -> str | None:
            request = ctx.request_context.request
            url = getattr(request, "base_url", None)
            return settings.server.public_url or (str(url) if url is not None else None)

        return Backend(state.service, state.ingestor, settings, state.keys, state.worker,
                       http_principal(state.keys), base)

    settings: Settings = app.state.configured
    loopback = settings.server.host in ("127.0.0.1", "localhost", "::1")
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=loopback,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])
    server = build(backend)
    web = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True,
                                     json_response=True, transport_security=security,
                                     max_request_body_size=settings.server.max_request_bytes)
    from starlette.routing import Route

    (route,) = web.routes
    assert isinstance(route, Route)
    return server, route.app


def run_stdio(settings: Settings, key: str | None) -> None:
    """``mmrag mcp``: the MCP server over stdio, for a desktop host that starts it. With
    keys configured, ``key`` (MMRAG_API_KEY) decides the collections, as over HTTP; links
    point at ``server.public_url`` when it is set (a running ``mmrag serve``)."""
    import anyio

    from rag.store.db import Process

    keys = (KeyStore.load(settings.api_keys_file, settings.server.keys_reload_seconds)
            if settings.api_keys_file else None)
    if keys is not None:  # refused now, with the reason, rather than on every call
        keys.check(f"Bearer {key}" if key else None)
    service = RagService.from_settings(settings)
    me = Process(service.parts.db, "mcp", settings.heartbeat_seconds).start()
    ingestor = Ingestor(service, owner=me.id)

    def principal(_: Context) -> Principal:
        return LOCAL if keys is None else keys.check(f"Bearer {key}" if key else None)

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    backend = Backend(service, ingestor, settings, keys, run, principal,
                      lambda _: settings.server.public_url)
    try:
        build(lambda: backend).run("stdio")
    finally:
        me.stop()
