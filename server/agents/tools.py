"""The MCP tools' work: search, answer, list_collections, list_documents, fetch and the
document resource, on the same service, keys and error messages as the HTTP API. A key sees
only its collections; an error carries the message, status and body of the HTTP error table
(server/errors.py)."""

from __future__ import annotations

import base64
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from pydantic import Field

from ingest.pipeline import Ingestor
from rag.errors import InvalidInput, NotFound, RagError
from rag.images import decode_base64_image
from rag.items import DOC_ID, display_source, location
from rag.schema import Answer, Hit
from rag.schema import Query as RagQuery
from rag.service import RagService
from rag.settings import Settings
from rag.text_input import clean_text

from ..auth import LOCAL, KeyStore, Principal
from ..errors import describe
from ..links import LinkMaker, Links

IMAGE_SIDE = 768  # pictures go to the agent at most this many pixels on a side
MAX_DOCUMENTS = 500  # documents one list_documents call returns
URI = "mmrag://{collection}/{kind}/{id}"
CollectionArg = Annotated[str | None, Field(
    None, description="collection name, case-insensitive; a key with one collection uses it "
    "when none is given, otherwise 'default'")]
ImageArg = Annotated[str | None, Field(
    None, description="a picture to search by: base64, or a data URI")]


@dataclass
class Backend:
    """What the tools work with: the service, its ingestor and settings, the keys (None: no
    keys, every collection), how a request's caller is known, and how blocking work runs."""

    service: RagService
    ingestor: Ingestor
    settings: Settings
    keys: KeyStore | None
    run: Callable[..., Awaitable[Any]]  # (fn, *args): off the event loop
    principal: Callable[[Context], Principal]
    base_url: Callable[[Context], str | None]  # links point here; None: no links

    def links(self, ctx: Context, collection: str) -> Links | None:
        base = self.base_url(ctx)
        if base is None:
            return None
        secret = self.keys.link_secret if self.keys is not None else None
        return LinkMaker(base.rstrip("/"), self.settings.default_collection, secret,
                         self.settings.server.link_seconds).for_collection(collection)


def http_principal(keys: KeyStore | None) -> Callable[[Context], Principal]:
    """The caller of a streamable HTTP request, by its Authorization header."""
    def principal(ctx: Context) -> Principal:
        if keys is None:
            return LOCAL
        return keys.check((ctx.headers or {}).get("authorization"))
    return principal


def message(e: RagError) -> str:
    return str(describe(e)[1]["error"]["message"])


def _uri(collection: str, kind: str, item_id: str) -> str:
    return URI.format(collection=collection, kind=kind, id=item_id)


def _thumbnail(data: bytes) -> tuple[bytes, str]:
    """A picture no larger than IMAGE_SIDE on a side, as PNG (JPEG for photos)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.thumbnail((IMAGE_SIDE, IMAGE_SIDE))
        photo = im.mode not in ("1", "L", "P", "LA", "RGBA", "PA")
        out = io.BytesIO()
        (im.convert("RGB").save(out, "JPEG", quality=85) if photo
         else im.save(out, "PNG", optimize=True))
    return out.getvalue(), "image/jpeg" if photo else "image/png"


def _image_block(data: bytes) -> ImageContent:
    small, mime = _thumbnail(data)
    return ImageContent(type="image", data=base64.b64encode(small).decode(), mime_type=mime)


class Tools:
    """The tools' work, one method each; ``build`` registers them on an MCPServer. The
    backend is looked up per call: the HTTP server makes it when it starts."""

    def __init__(self, backend: Callable[[], Backend]):
        self._backend = backend

    @property
    def b(self) -> Backend:
        return self._backend()

    def _collection(self, ctx: Context, name: str | None) -> tuple[Principal, str]:
        who = self.b.principal(ctx)
        return who, who.collection(name, self.b.settings.default_collection)

    def _query(self, ctx: Context, text: str, image: str | None, collection: str | None,
               top_k: int | None) -> RagQuery:
        limit = self.b.settings.server.max_question_chars
        if len(text) > limit:
            raise InvalidInput(f"question is {len(text):,} characters, over the limit of "
                               f"{limit:,}")
        text = clean_text(text, "the question")
        if not text.strip() and not image:
            raise InvalidInput("give a query, an image, or both")
        _, coll = self._collection(ctx, collection)
        picture = (decode_base64_image(image, self.b.settings.server.max_upload_bytes)
                   if image else None)
        return RagQuery(text=text, image=picture, collection=coll,
                        top_k=top_k or self.b.settings.top_k)

    async def _picture(self, collection: str, image_id: str) -> ImageContent | None:
        try:
            path, _ = await self.b.run(self.b.ingestor.image_file, collection, image_id)
        except NotFound:  # a picture whose copy is gone still has its text
            return None
        with open(path, "rb") as f:
            return _image_block(f.read())

    def _hit(self, rank: int, h: Hit, collection: str, links: Links | None) -> dict[str, Any]:
        image_id = h.id if h.modality == "image" else h.metadata.get("image_id")
        return {"rank": rank, "id": h.id, "modality": h.modality,
                "source": display_source(h.source), "location": location(h.metadata),
                "score": round(h.score, 4), "channel": h.channel, "text": h.text,
                "uri": _uri(collection, "items", h.id),
                "url": (links.image(h.id) if h.modality == "image" else links.item(h.id))
                if links else None,
                "image_uri": _uri(collection, "items", image_id) if image_id else None}

    async def search(self, ctx: Context, query: str, collection: str | None,
                     top_k: int | None, image: str | None) -> CallToolResult:
        q = self._query(ctx, query, image, collection, top_k)
        hits, _ = await self.b.run(self.b.service.retrieve, q)
        links = self.b.links(ctx, q.collection)
        found = [self._hit(i, h, q.collection, links) for i, h in enumerate(hits, 1)]
        content: list[ContentBlock] = []
        if not found:
            content.append(TextContent(type="text", text=f"nothing found in collection "
                                       f"{q.collection!r}"))
        for h in found:
            content.append(TextContent(type="text", text=_describe(h)))
            if h["image_uri"] and h["modality"] == "image":
                block = await self._picture(q.collection, h["id"])
                if block is not None:
                    content.append(block)
            content.append(ResourceLink(type="resource_link", name=h["source"] or h["id"],
                                        uri=h["uri"], description=h["location"],
                                        mime_type="image/*" if h["modality"] == "image"
                                        else "text/plain"))
        return CallToolResult(content=content, structured_content={
            "collection": q.collection, "hits": found})

    async def answer(self, ctx: Context, question: str, collection: str | None,
                     image: str | None) -> CallToolResult:
        q = self._query(ctx, question, image, collection, None)
        a: Answer = await self.b.run(self.b.service.answer, q)
        links = self.b.links(ctx, q.collection)
        cites = [{"n": c.n, "id": c.id, "modality": c.modality,
                  "source": display_source(c.source), "location": c.location,
                  "snippet": c.snippet, "cited": c.cited, "score": round(c.score, 4),
                  "uri": _uri(q.collection, "items", c.id),
                  "url": (links.image(c.id) if c.modality == "image" else links.item(c.id))
                  if links else None} for c in a.citations]
        lines = [a.text, ""] + [
            f"[{c['n']}] {c['source']}" + (f", {c['location']}" if c["location"] else "")
            + f" <{c['url'] or c['uri']}>" for c in cites if c["cited"]]
        return CallToolResult(
            content=[TextContent(type="text", text="\n".join(lines).strip())],
            structured_content={"answer": a.text, "found": a.found, "collection": q.collection,
                                "generator": a.generator, "citations": cites})

    async def list_collections(self, ctx: Context) -> dict[str, Any]:
        who = self.b.principal(ctx)
        names = await self.b.run(self.b.service.collections)
        names = sorted({*names, self.b.settings.default_collection})
        if who.collections is not None:
            names = [n for n in names if n in who.collections]
        return {"collections": names}

    async def list_documents(self, ctx: Context, collection: str | None,
                             filter: str | None) -> dict[str, Any]:
        _, coll = self._collection(ctx, collection)
        await self.b.run(self.b.service.check_exists, coll)
        docs = await self.b.run(self.b.ingestor.documents, coll)
        needle = (filter or "").casefold()
        shown = [d for d in docs if needle in display_source(d.source).casefold()]
        return {"collection": coll, "total": len(shown), "documents": [
            {"id": d.doc_id, "source": display_source(d.source), "kind": d.kind,
             "chunks": d.chunks, "images": d.images, "ingested_at": d.ingested_at,
             "uri": _uri(coll, "documents", d.doc_id)} for d in shown[:MAX_DOCUMENTS]]}

    async def fetch(self, ctx: Context, id: str, collection: str | None) -> CallToolResult:
        _, coll = self._collection(ctx, collection)
        found = await self.b.run(self.b.ingestor.item, coll, id)
        links = self.b.links(ctx, coll)
        view = {k: found[k] for k in ("id", "modality", "location", "text", "image")}
        view.update(source=display_source(found["source"]), collection=coll,
                    uri=_uri(coll, "items", id),
                    url=(links.item(id) if links else None))
        content: list[ContentBlock] = [TextContent(type="text", text=_describe(
            {**view, "rank": None, "score": None, "channel": None}))]
        if found["image"] and found["image_id"]:
            block = await self._picture(coll, found["image_id"])
            if block is not None:
                content.append(block)
        elif found["pdf_page"]:
            png = await self.b.run(self.b.ingestor.render_page, coll, id)
            content.append(_image_block(png))
        return CallToolResult(content=content, structured_content=view)


def _describe(h: dict[str, Any]) -> str:
    head = h["source"] or h["id"]
    if h.get("location"):
        head += f", {h['location']}"
    if h.get("rank"):
        how = "" if h["channel"] == h["modality"] else f", found by {h['channel']}"
        head = f"[{h['rank']}] {head} ({h['modality']}, score {h['score']}{how})"
    link = h.get("url") or h.get("uri")
    body = h.get("text") or ""
    return f"{head}\n{link}\n\n{body}".strip()


async def document_text(b: Backend, ctx: Context, collection: str, doc_id: str) -> str:
    """A document's passages in order (neighbours share a few words), its name first."""
    coll = b.principal(ctx).collection(collection, b.settings.default_collection)
    doc = await b.run(b.ingestor.manifest.get, coll, doc_id)
    if doc is None:
        raise NotFound(f"no document {doc_id!r} in collection {coll!r}")
    found, _ = await b.run(b.service.parts.store.get, coll, "text", None, {DOC_ID: doc_id})
    found.sort(key=lambda it: int(it.metadata.get("chunk_index", 0)))
    return "\n\n".join([f"# {display_source(doc.source)}"]
                        + [it.document or "" for it in found])
