"""Bounds on a request before any of it is parsed: the API key of a request that carries a
body is checked before the body is read, and a JSON body's values are counted on its raw
bytes, so a small body that would parse into millions of objects (and as many validation
errors) is refused for what it costs, not for its size."""

from __future__ import annotations

import re
from typing import Any

from rag.errors import Unauthorized

# a JSON string, escapes included; an unterminated one runs to the end, so the scan never
# starts again inside it and stays linear on any input
_STRING = re.compile(rb'"[^"\\]*(?:\\(?:.|\Z)[^"\\]*)*(?:"|\Z)', re.S)
ESCAPES_PER_VALUE = 20  # backslash escapes allowed per value (text sent as \uXXXX has many)
BODILESS = {"GET", "HEAD", "OPTIONS"}


def json_values(body: bytes, limit: int) -> int:
    """About how many values a JSON text holds: its strings are dropped, then each array or
    object opened and each separator counts one. Never fewer than the values it holds. Past
    ``limit * ESCAPES_PER_VALUE`` backslashes the text is not scanned (the scan's time grows
    with them) and counts as over the limit."""
    if body.count(b"\\") > limit * ESCAPES_PER_VALUE:
        return limit + 1
    bare = _STRING.sub(b"", body)
    return bare.count(b",") + bare.count(b"[") + bare.count(b"{") + 1


def is_json(headers: dict[str, str]) -> bool:
    """Whether the routes will parse the body as JSON (as FastAPI does: no content type, or
    application/json or application/*+json)."""
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not kind or kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json"))


def refused_key(scope: dict, headers: dict[str, str]) -> Unauthorized | None:
    """Unauthorized for a request with a body and no valid key, when keys are configured. Its
    body is never read. Requests without a body are checked by the routes, which also take
    signed links."""
    keys = getattr(getattr(scope.get("app"), "state", None), "keys", None)
    if keys is None or scope["method"] in BODILESS:
        return None
    try:
        keys.check(headers.get("authorization"))
    except Unauthorized as e:
        return e
    return None


async def read_body(receive: Any) -> bytes:
    """The whole body (``receive`` enforces the size limit)."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that hands the app ``body`` once, then listens for the disconnect."""
    sent = False

    async def again() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # type: ignore[no-any-return]

    return again
