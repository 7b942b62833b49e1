"""The one place where errors become HTTP responses: a table from error type to status, and
an OpenAI-style body ``{"error": {"message", "type", "code"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import errors

log = logging.getLogger(__name__)
SHOWN_ERRORS = 5  # validation errors named in a 422; the rest are counted

STATUS: dict[type[errors.RagError], tuple[int, str]] = {
    errors.TooLarge: (413, "invalid_request_error"),
    errors.InvalidInput: (400, "invalid_request_error"),
    errors.NotFound: (404, "not_found_error"),
    errors.Unauthorized: (401, "authentication_error"),
    errors.Forbidden: (403, "permission_error"),
    errors.QueueFull: (429, "rate_limit_error"),
    errors.Overloaded: (503, "overloaded_error"),
    errors.UpstreamError: (502, "upstream_error"),
    errors.Unavailable: (503, "unavailable_error"),
    errors.ModelUnavailable: (503, "model_unavailable_error"),
    errors.StoreError: (500, "store_error"),
    errors.MissingExtra: (503, "unavailable_error"),
}


def error_body(message: str, type_: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code}}


def describe(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(status, OpenAI-style body) of an error: the one error factory, used by the handlers
    below and by streams, whose status line has already gone out."""
    if not isinstance(exc, errors.RagError):
        return 500, error_body(f"internal error: {type(exc).__name__}", "server_error",
                               "internal_error")
    for cls in type(exc).__mro__:
        if cls in STATUS:
            status, type_ = STATUS[cls]
            break
    else:
        status, type_ = 500, "server_error"
    return status, error_body(str(exc), type_, exc.code)


def error_response(status: int, message: str, type_: str, code: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, type_, code), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.RagError)
    async def rag_error(_: Request, exc: errors.RagError) -> JSONResponse:
        status, body = describe(exc)
        if status >= 500:
            log.error("%s: %s", type(exc).__name__, exc)
        headers = None
        if isinstance(exc, errors.Overloaded | errors.Unavailable):
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, errors.Unauthorized):
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        parts = []
        for e in found[:SHOWN_ERRORS]:  # the first few: an answer never outgrows its request
            if e.get("type") == "json_invalid":
                parts.append(f"the body is not valid JSON ({e.get('ctx', {}).get('error', '')})")
                continue
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{where or 'body'}: {e.get('msg')}"[:300])
        if len(found) > SHOWN_ERRORS:
            parts.append(f"and {len(found) - SHOWN_ERRORS:,} more")
        return error_response(422, "invalid request: " + "; ".join(parts),
                              "invalid_request_error", "validation_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # its headers too: a 405 says in Allow which methods the path takes
        return error_response(exc.status_code, str(exc.detail), "invalid_request_error",
                              f"http_{exc.status_code}", headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        status, body = describe(exc)
        return JSONResponse(body, status_code=status)
