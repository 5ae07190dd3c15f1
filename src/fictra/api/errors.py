"""One error shape for every HTTP answer that is not a success, and a request id on every response.

    {"error": {"code": "not_found", "message": "No alert with id '7'.", "request_id": "3f2a..."}}

Domain errors map to statuses here and only here (:func:`status_for`, used by the API's handlers and the
console's error pages alike): NotFoundError 404, ConflictError 409, PermissionDeniedError 403,
UsageError/ConfigError 422 (and invalid requests, numbers out of range 422), unauthenticated 401, the
database or the chain unavailable 503. :func:`problem_of` shapes what the client sees (code, message,
request id) for both. Anything unexpected becomes 500 ``internal`` with the request id; the traceback goes
to the log under that id, with anything that looks like a credential scrubbed (and never to the client).
"""

from __future__ import annotations

import logging
import re
import traceback
import uuid
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fictra.api.limits import INT64_MAX
from fictra.errors import (
    AuthenticationError,
    ChainError,
    ConfigError,
    ConflictError,
    FictraError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    UsageError,
)

log = logging.getLogger(__name__)

ErrorCode = Literal["not_found", "conflict", "forbidden", "unauthorized", "invalid", "internal"]
REQUEST_ID_HEADER = "X-Request-ID"
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_DOMAIN: tuple[tuple[type[FictraError], int, ErrorCode], ...] = (
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PermissionDeniedError, 403, "forbidden"),
    (AuthenticationError, 401, "unauthorized"),
    (UsageError, 422, "invalid"),
    (ConfigError, 422, "invalid"),
    (StorageError, 503, "internal"),
    (ChainError, 503, "internal"),
)
_BY_STATUS: dict[int, ErrorCode] = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "invalid",
    409: "conflict",
    415: "invalid",
    422: "invalid",
}


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    request_id: str


class ErrorResponse(BaseModel):
    """The body of every error answer of the API."""

    error: ErrorDetail


_SECRETS = (
    (re.compile(r"//[^/@\s:]+:[^/@\s]+@"), "//***:***@"),  # credentials in URLs
    (re.compile(r"(?i)\b(bearer)\s+\S+"), r"\1 ***"),
    (
        re.compile(r"(?i)\b(password|passwd|secret|token|api_key|apikey)(\s*[=:]\s*)\S+"),
        r"\1\2***",
    ),
)


def scrub(text: str) -> str:
    """Hide what looks like a credential (URL userinfo, password=..., Bearer ...) before logging."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "-")


def error_response(
    request: Request, *, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    rid = request_id(request)
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, request_id=rid))
    return JSONResponse(
        body.model_dump(), status_code=status, headers={**(headers or {}), REQUEST_ID_HEADER: rid}
    )


def status_for(exc: BaseException) -> int:
    """The HTTP status of an exception, for the API and the console alike: a domain error by its class, an
    invalid request or an out-of-range number 422, an HTTPException its own, anything else 500."""
    return _classify(exc)[0]


def _classify(exc: BaseException) -> tuple[int, ErrorCode]:
    if isinstance(exc, FictraError):
        for cls, http, name in _DOMAIN:
            if isinstance(exc, cls):
                return http, name
        return 500, "internal"
    if isinstance(exc, RequestValidationError | OverflowError):
        return 422, "invalid"
    if isinstance(exc, HTTPException):
        code = _BY_STATUS.get(exc.status_code, "internal" if exc.status_code >= 500 else "invalid")
        return exc.status_code, code
    return 500, "internal"


def internal_message(rid: str) -> str:
    return f"Internal error. Quote request id {rid} to the operators (it is in the log)."


def message_for(exc: BaseException, *, rid: str) -> str:
    """What the client is told: a domain error's ``user_message``, an invalid request's problems, an
    HTTPException's detail; never an unexpected exception's text (only the request id)."""
    if isinstance(exc, FictraError):
        return exc.user_message
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(f"{_where(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors())
        return f"Invalid request: {problems}."
    if isinstance(exc, OverflowError):
        return f"A number in the request is out of range (at most {INT64_MAX})."
    if isinstance(exc, HTTPException):
        return exc.detail if isinstance(exc.detail, str) else "Request failed."
    return internal_message(rid)


def problem_of(request: Request, exc: BaseException) -> tuple[int, ErrorDetail]:
    """The status and the error body (code, message, request id) of ``exc``: what the API answers in JSON
    and the console's error page shows."""
    status, code = _classify(exc)
    rid = request_id(request)
    return status, ErrorDetail(code=code, message=message_for(exc, rid=rid), request_id=rid)


def log_unexpected(exc: BaseException, *, method: object, path: object, rid: str) -> None:
    """The traceback of an unexpected exception, credentials scrubbed, under the request id."""
    log.error(
        "Unexpected error answering %s %s (request id %s)\n%s",
        method,
        path,
        rid,
        scrub("".join(traceback.format_exception(exc))).rstrip(),
    )


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, FictraError):  # pragma: no cover - registered for FictraError only
        raise exc
    status, detail = problem_of(request, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(request, status=status, code=detail.code, message=detail.message, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # pragma: no cover
        raise exc
    status, detail = problem_of(request, exc)
    return error_response(
        request, status=status, code=detail.code, message=detail.message, headers=dict(exc.headers or {})
    )


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)] or [str(p) for p in loc]
    return ".".join(parts)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    status, detail = problem_of(request, exc)
    return error_response(request, status=status, code=detail.code, message=detail.message)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FictraError, _domain_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware:
    """Gives every request an id (the client's ``X-Request-ID`` when sane, else a fresh one), puts it on
    every response, and turns an unexpected exception into the 500 error shape (logged with traceback)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
        rid = incoming if _GOOD_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log_unexpected(exc, method=scope.get("method"), path=scope.get("path"), rid=rid)
            if started:
                raise
            body = ErrorResponse(
                error=ErrorDetail(code="internal", message=internal_message(rid), request_id=rid)
            )
            response = JSONResponse(body.model_dump(), status_code=500, headers={REQUEST_ID_HEADER: rid})
            await response(scope, receive, send)
