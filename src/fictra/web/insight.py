"""The audit log page: entries newest first (filter by action, actor, target; page back), with the
chain's verification status loaded as a fragment (verifying reads the whole log, so it is its own
request and the table shows at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fictra.api.deps import app_context
from fictra.audit.service import count_entries, list_entries
from fictra.errors import FictraError
from fictra.web.access import forbidden, page, signed_in, to_login

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


async def _audit_data(request: Request) -> dict[str, Any]:
    p = request.query_params
    filters = {k: (p.get(k) or "").strip() for k in ("action", "actor", "target")}
    before = _int(p.get("before"))
    context = app_context(request)
    problem = None
    entries: list[Any] = []
    total = 0
    try:
        async with context.sessions() as session:
            total = await count_entries(session)
            entries = list(
                await list_entries(
                    session,
                    limit=PAGE_SIZE,
                    before_index=before,
                    action=filters["action"] or None,
                    actor=filters["actor"] or None,
                    target=filters["target"] or None,
                )
            )
    except FictraError as exc:
        problem = exc.user_message
    older = entries[-1].idx if len(entries) == PAGE_SIZE else None
    return {
        "entries": entries,
        "filters": filters,
        "any_filter": any(filters.values()),
        "before": before,
        "older": older,
        "total": total,
        "problem": problem,
    }


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    actor = await signed_in(request)
    if actor is None:
        return to_login(request)
    if not actor.can("audit.read"):
        return forbidden(request, actor, "audit.read")
    return page(request, actor, "audit.html", page="audit", **await _audit_data(request))


@router.get("/ui/audit")
async def audit_fragment(request: Request) -> Response:
    actor = await signed_in(request)
    if actor is None:
        return to_login(request)
    if not actor.can("audit.read"):
        return forbidden(request, actor, "audit.read")
    return page(request, actor, "partials/audit_table.html", page="audit", **await _audit_data(request))
