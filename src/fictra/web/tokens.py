"""The foundation-token page: the allocation registry reconciled with FoundationToken (each sovereign's
participant, country, KYC, allocation against the cap on chain, issued, remaining, balance, votes and
delegate, with what differs) and the FT issuance actions (ft_issue) with their status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fictra.api.deps import app_context, guarded
from fictra.emergency import queries
from fictra.errors import FictraError
from fictra.platform.tokens import allocation_report
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


@router.get("/tokens", **guarded("tokens.read"))
async def tokens_page(request: Request, actor: SignedIn) -> Response:
    ctx = app_context(request)
    rows: list[dict[str, Any]] = []
    error = None
    if ctx.platform is None:
        error = "No chain connection in this process: the registry is reconciled by `fictra up`."
    else:
        try:
            rows = await allocation_report(
                ctx.config_set.tokens, manifest=ctx.platform.manifest, pool=ctx.platform.pool
            )
        except FictraError as exc:
            error = exc.user_message
    async with ctx.sessions() as session:
        listed = await queries.list_actions(session, limit=200, clock=ctx.clock)
        issuances = [a for a in listed if a.kind == "ft_issue"]
    return page(request, actor, "tokens.html", page="tokens", rows=rows, error=error, issuances=issuances)
