"""The web console's router (included by :func:`fictra.api.app.create_app`): login, overview, alerts,
charts, audit log, notifications (dead letters), on call, incidents and emergency actions, and the static
files (our CSS/JS and the vendored htmx and uPlot).

Pages are server-rendered with Jinja2; htmx refreshes their live parts by polling ``/ui/...`` fragments.
Nothing here is in the OpenAPI schema: the JSON API is the contract, the console is its client.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from fictra.api.deps import guarded
from fictra.web import (
    account,
    actions,
    alerts,
    blocks,
    changes,
    changes_calendar,
    changes_feedback,
    economics,
    incidents,
    insight,
    login,
    maintenance,
    operations,
    overview,
    procedures,
    proposals,
    reserve,
    support,
    tokens,
)
from fictra.web.access import ConsoleRoute, SignedIn, page
from fictra.web.templating import STATIC

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
router.include_router(login.router)
router.include_router(account.router)
router.include_router(overview.router)
router.include_router(alerts.router)
router.include_router(insight.router)
router.include_router(blocks.router)
router.include_router(operations.router)
router.include_router(incidents.router)
router.include_router(actions.router)
router.include_router(procedures.router)
router.include_router(support.router)
router.include_router(changes_calendar.router)  # before changes: /changes/calendar is not an id
router.include_router(changes.router)
router.include_router(changes_feedback.router)  # public: the one-time link is the credential
router.include_router(maintenance.router)
router.include_router(reserve.router)
router.include_router(tokens.router)
router.include_router(economics.router)
router.include_router(proposals.router)

_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".json": "application/json"}


@router.get("/static/{path:path}")
async def static(path: str) -> Response:
    """A file under static/ (never outside it); cached for a day (URLs carry a version suffix)."""
    root = STATIC.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return Response("Not found", status_code=404, media_type="text/plain")
    media = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/charts", **guarded("metrics.read"))
async def charts(request: Request, actor: SignedIn) -> Response:
    return page(request, actor, "charts.html", page="charts")
