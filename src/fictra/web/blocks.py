"""A block as the chain has it now, for the links on alert pages: header, transactions (the alert's
highlighted), the alerts anchored on it, and a warning when the alert's block was replaced by a reorg."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from fictra.alerting.models import Alert
from fictra.api.deps import app_context, guarded
from fictra.chain.fetch import fetch_blocks
from fictra.errors import FictraError
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
ALERTS_SHOWN = 50


@router.get("/blocks/{number}", **guarded("networks.read"))
async def block_page(request: Request, number: int, actor: SignedIn) -> Response:
    context = app_context(request)
    expected = (request.query_params.get("hash") or "").lower() or None
    highlight = {h.lower() for h in request.query_params.getlist("tx")}
    data: dict[str, Any] = {"number": number, "block": None, "problem": None, "expected": expected}
    if number < 0:
        data["problem"] = f"Block number {number} is negative."
    elif context.platform is None:
        data["problem"] = "This server has no chain connection (it runs without the platform)."
    else:
        try:
            blocks = await fetch_blocks(context.platform.pool, first=number, last=number)
            data["block"] = blocks[0] if blocks else None
        except FictraError as exc:
            data["problem"] = exc.user_message
        if data["block"] is None and data["problem"] is None:
            data["problem"] = f"The chain has no block {number} yet."
    async with context.sessions() as session:
        stmt = select(Alert).where(Alert.block_number == number).order_by(Alert.id.desc()).limit(ALERTS_SHOWN)
        data["alerts"] = list((await session.execute(stmt)).scalars())
    return page(request, actor, "block.html", page="alerts", highlight=highlight, **data)
