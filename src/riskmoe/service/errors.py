"""Errors -> HTTP: every failure a client can cause becomes a 4xx with a specific body.

401 no/invalid key, 403 wrong role, 404 unknown thing, 409 store state refuses, 413 body
too large, 422 bad input (each field: what, where, what is allowed), 429 rate limited,
503 shed. A 500 means a bug; its body never carries internals.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from riskmoe.exceptions import (
    AuthError,
    DataError,
    DatasetNotFoundError,
    ResolutionError,
    StoreError,
)
from riskmoe.service.schemas import ErrorResponse

__all__ = ["ApiError", "error_body", "install_error_handlers", "ERROR_RESPONSES"]

log = logging.getLogger("riskmoe.service")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in {
        401: "No key, or an invalid or revoked key.",
        403: "The key's role may not do this.",
        404: "Not found.",
        409: "The store refused (e.g. a model folder changed after registration).",
        413: "The body is larger than allowed.",
        422: "Bad input: each field, its problem and what is allowed.",
        429: "Rate limited; see Retry-After.",
        503: "Busy or not ready; see Retry-After.",
    }.items()
}


class ApiError(Exception):
    """An HTTP error with a riskmoe error body."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers
        self.details = details or []


def error_body(error: str, message: str, details: list[dict[str, Any]] | None = None) -> Any:
    """The JSON body of an error."""
    return ErrorResponse(error=error, message=message, details=details or []).model_dump()  # type: ignore[arg-type]


def _allowed(err: dict[str, Any]) -> str | None:
    ctx = err.get("ctx") or {}
    for key in ("expected", "pattern", "ge", "gt", "le", "lt", "max_length", "min_length"):
        if key in ctx:
            return f"{key} {ctx[key]}"
    kind = str(err.get("type", ""))
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return kind.replace("_parsing", "").replace("_type", "")
    return None


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ())),
            "problem": str(e.get("msg", "invalid")),
            "allowed": _allowed(e),
        }
        for e in exc.errors()
    ]
    first = details[0] if details else {"field": "?", "problem": "invalid"}
    return JSONResponse(
        status_code=422,
        content=error_body("invalid_input", f"{first['field']}: {first['problem']}", details),
    )


def _api(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        status_code=exc.status,
        content=error_body(exc.error, exc.message, exc.details),
        headers=exc.headers,
    )


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    names = {404: "not_found", 405: "method_not_allowed"}
    return JSONResponse(
        status_code=exc.status_code,
        content=error_body(names.get(exc.status_code, "http_error"), str(exc.detail)),
        headers=getattr(exc, "headers", None),
    )


def _riskmoe(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, AuthError):
        status, error = 401, "unauthorized"
    elif isinstance(exc, DatasetNotFoundError):
        status, error = 404, "not_found"
    elif isinstance(exc, DataError | ResolutionError | ValueError):
        status, error = 422, "invalid_input"
    elif isinstance(exc, StoreError):
        status, error = 409, "store_refused"
    elif isinstance(exc, LookupError):
        status, error = 404, "not_found"
    else:  # pragma: no cover - every riskmoe error is one of the above
        status, error = 422, "invalid_input"
    return JSONResponse(status_code=status, content=error_body(error, str(exc)))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse(
        status_code=500,
        content=error_body("internal", "internal error; the incident was logged."),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    from riskmoe.exceptions import RiskMoEError

    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RiskMoEError, _riskmoe)
    app.add_exception_handler(LookupError, _riskmoe)
    app.add_exception_handler(ValueError, _riskmoe)
    app.add_exception_handler(Exception, _unexpected)
