"""Request-scoped dependencies shared by every router: the app context, a DB session in a transaction,
and :func:`guarded` — the one way a route declares the permission it needs.

    @router.get("/alerts", **guarded("alerts.read"))
    async def list_alerts(session: DbSession) -> ...

``guarded`` adds the auth module's ``require(permission)`` dependency and publishes the permission in
the OpenAPI operation as ``x-permission`` (the permission-matrix test reads it from there).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.context import AppContext

PERMISSION_KEY = "x-permission"


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request in one transaction: committed when the handler returns (before the response
    is sent), rolled back when it raises."""
    context = app_context(request)
    async with context.sessions() as session, session.begin():
        yield session


Context = Annotated[AppContext, Depends(app_context)]
DbSession = Annotated[AsyncSession, Depends(db_session, scope="function")]


def guarded(permission: str) -> dict[str, Any]:
    """Route keyword arguments that put the route behind ``permission`` (401 without credentials, 403
    without the permission)."""
    from fictra.auth.deps import require
    from fictra.auth.permissions import PERMISSIONS

    if permission not in PERMISSIONS:
        raise ValueError(f"Unknown permission '{permission}': add it to fictra.auth.permissions.PERMISSIONS.")
    return {"dependencies": [Depends(require(permission))], "openapi_extra": {PERMISSION_KEY: permission}}
