"""The web page at ``/``: three static files (server/web/), no build step, served with a
strict Content-Security-Policy (scripts, styles, images and requests from this server only;
no inline script), and the one endpoint only the page needs, the collections a key may use."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from rag.errors import Forbidden

from .deps import PrincipalDep, ServiceDep, SettingsDep, WorkerDep
from .schemas import COMMON_ERRORS

router = APIRouter()
WEB = Path(__file__).parent / "web"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
FILES = {"app.js": "text/javascript", "app.css": "text/css"}


def _page(name: str, media: str) -> FileResponse:
    return FileResponse(WEB / name, media_type=media, headers={
        "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return _page("index.html", "text/html; charset=utf-8")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)  # none; a browser asks anyway


@router.get("/ui/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    if name not in FILES:
        from rag.errors import NotFound

        raise NotFound(f"no file {name!r}")
    return _page(name, FILES[name])


@router.get("/v1/collections", responses=COMMON_ERRORS)
async def collections(service: ServiceDep, settings: SettingsDep, work: WorkerDep,
                      who: PrincipalDep) -> dict:
    """The collections this key may use that exist (the default one always does)."""
    names = set(await work(service.collections)) | {settings.default_collection}
    if who.collections is not None:
        names &= who.collections
    try:  # what a request naming no collection would use, if this key may use it
        default: str | None = who.collection(None, settings.default_collection)
    except Forbidden:
        default = None
    return {"collections": sorted(names), "default": default}
