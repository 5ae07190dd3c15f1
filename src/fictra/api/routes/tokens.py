"""The foundation-token API (prefix /api/v1/tokens).

GET  /tokens/sovereigns     the allocation verification report: registry vs FoundationToken   tokens.read
POST /tokens/issuances      {sovereign, amount_ft, reason, documents}: pre-checks, then the   actions.propose
                            ft_issue action proposed under its approval rule (201, the action)

A failed pre-check (KYC, allocation, supply cap, unknown sovereign) is 409 naming every failed check.
Reading the chain needs the running platform (`fictra up`): without it, 409.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, app_context, guarded
from fictra.api.routes.actions import CurrentActor
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.emergency.types import ActionView
from fictra.errors import ConflictError
from fictra.platform.tokens import allocation_report, request_issuance
from fictra.tokens.issuance import IssuanceRequest

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class IssuanceBody(BaseModel):
    sovereign: str = Field(min_length=1, max_length=32)
    amount_ft: int = Field(gt=0, le=10**15, description="Whole FT.")
    reason: str = Field(min_length=1, max_length=2000)
    documents: list[str] = Field(default_factory=list, max_length=50, description="sha256 hex of documents.")


def chain_of(request: Request) -> tuple[Manifest, RpcPool]:
    platform = app_context(request).platform
    if platform is None:
        raise ConflictError("No chain connection in this process: token operations need `fictra up`.")
    return platform.manifest, platform.pool


@router.get("/sovereigns", summary="Allocation verification report", **guarded("tokens.read"))
async def tokens_sovereigns(request: Request) -> list[dict[str, Any]]:
    manifest, pool = chain_of(request)
    return await allocation_report(app_context(request).config_set.tokens, manifest=manifest, pool=pool)


@router.post("/issuances", summary="Request an FT issuance", status_code=201, **guarded("actions.propose"))
async def tokens_issue(
    session: DbSession, request: Request, actor: CurrentActor, body: IssuanceBody
) -> ActionView:
    manifest, pool = chain_of(request)
    ctx = app_context(request)
    return await request_issuance(
        session, config=ctx.config_set.tokens, emergency=ctx.config_set.emergency, manifest=manifest,
        pool=pool, actor=actor, clock=ctx.clock,
        request=IssuanceRequest(body.sovereign, body.amount_ft, body.reason, tuple(body.documents)),
        on_event=ctx.platform.emergency.on_event if ctx.platform and ctx.platform.emergency else None,
    )  # fmt: skip
