"""The HTTP app served by ``fictra up``: the JSON API under ``/api/v1``, ``/metrics``, ``/healthz`` and the
web console, bound to 127.0.0.1 by default.

:func:`create_app` composes the domains' routers (each domain's ``views.py`` exposes ``router``); the
OpenAPI schema is published at ``/api/openapi.json`` (docs at ``/api/docs``). Every route is behind a
permission (:func:`fictra.api.deps.guarded`) except these, which hold no data: ``/healthz``, the login
endpoints (``POST /api/v1/auth/login``, the console's ``/login``), the schema and its docs page, and the
console's static assets. ``/metrics`` needs ``metrics.read`` (Prometheus: ``authorization: {credentials:
<token>}`` in the scrape config). Every error has one shape (:mod:`fictra.api.errors`) and every response
an ``X-Request-ID``.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from fictra.api.context import AppContext
from fictra.api.deps import PERMISSION_KEY
from fictra.api.docs import install_docs
from fictra.api.errors import ErrorResponse, error_response, install_error_handlers
from fictra.api.headers import SecurityHeadersMiddleware
from fictra.api.limits import INT64_MAX, HostileInputMiddleware, cap_recursion_limit
from fictra.errors import ConfigError

# The domains' routers, in the order their routes are matched. Our own must exist; the others are included
# when their module is installed (so the app works while a domain is still being built).
ROUTERS = (
    "fictra.api.system",
    "fictra.api.routes.chain",
    "fictra.api.routes.monitors",
    "fictra.api.routes.alerts",
)
OPTIONAL_ROUTERS = (
    "fictra.api.routes.series",
    "fictra.api.routes.auth",
    "fictra.api.routes.audit",
    "fictra.api.routes.response",
    "fictra.api.routes.notify",
    "fictra.api.routes.actions",
    "fictra.api.routes.incidents",
    "fictra.api.routes.incidents_records",
    "fictra.api.routes.recovery",
    "fictra.api.routes.procedures",
    "fictra.api.routes.support",
    "fictra.api.routes.reserve",
    "fictra.api.routes.tokens",
    "fictra.api.routes.economics",
    "fictra.api.routes.maintenance",
    "fictra.api.routes.changes",
    "fictra.api.routes.proposals",
    "fictra.api.routes.compliance",
    "fictra.web.compliance",  # the compliance console pages
    "fictra.web.views",
)
_ERRORS = {
    "401": "Not authenticated (no, expired or invalid session or token)",
    "403": "Authenticated but lacking the permission",
    "404": "Not found",
    "409": "The object's state forbids the operation",
    "422": "Invalid request",
}


def _router(module_name: str, *, optional: bool) -> APIRouter | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # only the module itself being absent is tolerated; a broken import inside it is raised
        if optional and exc.name is not None and module_name.startswith(exc.name):
            return None
        raise
    router = getattr(module, "router", None)
    if not isinstance(router, APIRouter):
        if optional:
            return None
        raise TypeError(f"{module_name} has no APIRouter named 'router'")
    return router


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with the one error shape documented on every API operation (any of them can
    meet a missing session, a missing object, a state conflict or invalid input)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorResponse"] = error_schema
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            documented = PERMISSION_KEY in operation or path.startswith("/api/v1/")
            for status, description in _ERRORS.items():
                if documented or (status == "422" and status in responses):
                    responses[status] = {"description": description, "content": ref}
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def create_app(*, context: AppContext) -> FastAPI:
    app = FastAPI(
        title="FICTRA Ops",
        version="0.1.0",
        description="Operations API of FICTRA Ops. Authenticate with a session (POST /api/v1/auth/login) "
        "or `Authorization: Bearer <token>`; each operation names its permission in `x-permission`.",
        docs_url=None,  # the vendored Swagger UI instead (fictra.api.docs): no CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.context = context
    # innermost first: the hostile-input checks run inside the request id (their answers carry it), and
    # the security headers go on every answer, errors and 500s included
    app.add_middleware(HostileInputMiddleware)
    install_error_handlers(app)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_middleware(SecurityHeadersMiddleware)
    for name in ROUTERS:
        router = _router(name, optional=False)
        if router is not None:
            app.include_router(router)
    for name in OPTIONAL_ROUTERS:
        router = _router(name, optional=True)
        if router is not None:
            app.include_router(router)
    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    cap_recursion_limit()  # the routers imported the eth stack (py_ecc raises the limit to 100,000)
    return app


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    """A number too large for the database or for a duration (``OverflowError``) is bad input, not a 500."""
    return error_response(
        request,
        status=422,
        code="invalid",
        message=f"A number in the request is out of range (at most {INT64_MAX}).",
    )


async def serve(app: FastAPI, *, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve until ``stop``. The socket is bound here first, so a taken port is a ConfigError naming it
    (uvicorn itself would exit the whole process)."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when sock.proto says TCP;
    # without it every small response on a kept-alive connection waits for the client's delayed ACK
    # (~40 ms). Set on the listener too (Linux copies it to accepted sockets).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot serve HTTP on {host}:{port}: {exc.strerror}. Set FICTRA_HTTP_PORT to a free port "
            "(or FICTRA_HTTP_HOST)."
        ) from None
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        await task
        sock.close()
