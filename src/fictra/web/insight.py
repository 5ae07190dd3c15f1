"""The audit log page: entries newest first (filter by action, actor, target; page back), with the
chain's verification status loaded as a fragment (verifying reads the whole log, so it is its own
request and the table shows at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fictra.api.deps import app_context, guarded
from fictra.audit.anchor import AnchorClient, load_anchor
from fictra.audit.checkpoints import count_checkpoints
from fictra.audit.schemas import VerifyView
from fictra.audit.service import count_entries, list_entries
from fictra.audit.signing import AuditVerifier, load_verifier
from fictra.audit.verify import verify_log
from fictra.errors import ConfigError, FictraError
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
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


@router.get("/audit", **guarded("audit.read"))
async def audit_page(request: Request, actor: SignedIn) -> Response:
    return page(request, actor, "audit.html", page="audit", **await _audit_data(request))


@router.get("/ui/audit", **guarded("audit.read"))
async def audit_fragment(request: Request, actor: SignedIn) -> Response:
    return page(request, actor, "partials/audit_table.html", page="audit", **await _audit_data(request))


async def verification(request: Request, *, anchor: bool) -> VerifyView:
    """The audit module's full check (chain, signed checkpoints, and the on-chain anchor when one was
    deployed and ``anchor``), as ``GET /api/v1/audit/verify`` does it. FictraError when it cannot check."""
    context = app_context(request)
    data_dir = context.settings.data_dir
    async with context.sessions() as session:
        verifier: AuditVerifier | None = None
        try:
            verifier = load_verifier(data_dir)
        except ConfigError:
            if await count_checkpoints(session):
                raise  # checkpoints exist but their key is gone: that is a finding, not "intact"
        config = load_anchor(data_dir) if anchor else None
        if config is None:
            return VerifyView.of(await verify_log(session, verifier=verifier))
        async with AnchorClient(config) as client:
            await client.check()
            return VerifyView.of(await verify_log(session, verifier=verifier, anchor=client))


@router.get("/ui/audit/verify", **guarded("audit.read"))
async def audit_verify_fragment(request: Request, actor: SignedIn) -> Response:
    if not actor.can("audit.verify"):
        return page(request, actor, "partials/audit_verify.html", report=None, problem=None, allowed=False)
    try:
        report = await verification(request, anchor=request.query_params.get("anchor") == "1")
    except FictraError as exc:
        return page(
            request, actor, "partials/audit_verify.html", report=None, problem=exc.user_message, allowed=True
        )
    return page(request, actor, "partials/audit_verify.html", report=report, problem=None, allowed=True)
