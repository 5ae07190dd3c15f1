"""The governance proposals API (prefix /api/v1/proposals; docs/proposals.md).

GET  /proposals?status=&limit=   proposals, newest first (phase, risk, review, changes)     proposals.read
GET  /proposals/{id}             decoded calls, risk, votes, timeline, simulation, review
                                 state and sign-offs, verification, referencing changes      proposals.read
POST /proposals/{id}/simulate    run its calls as the Timelock on a fork of the head         proposals.review
POST /proposals/{id}/review      {verdict: approve|reject, note}: sign off the simulation    proposals.review
POST /proposals/{id}/verify      after execution: the simulated effects on chain             proposals.review
POST /proposals/{id}/links       {change_id}: the change request that carries it             proposals.review

``{id}`` is the proposal's number in this platform (the ``#`` of the list), not the on-chain uint256 id.
With ``fictra up`` the platform's context is used; else one over the first endpoint of network.yaml
(``platform.connected`` false: the Governor's events are recorded only while ``fictra up`` follows the
chain).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.chain.manifest import Manifest
from fictra.proposals import service
from fictra.proposals.context import OFFLINE_NOTE, ProposalsContext
from fictra.proposals.queries import detail, list_proposals

router = APIRouter(prefix="/api/v1/proposals", tags=["proposals"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
ProposalNo = Annotated[int, Path(ge=1, le=2**31 - 1, description="The proposal's number (#) here.")]


@asynccontextmanager
async def context_for(request: Request) -> AsyncIterator[ProposalsContext]:
    """The platform's context when ``fictra up`` runs; else a standalone one (closed on exit)."""
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.platform.proposals import standalone_context

    ctx = app_context(request)
    wired = getattr(ctx.platform, "proposals", None)
    if isinstance(wired, ProposalsContext):
        yield wired
        return
    config = ctx.config_set
    manifest = Manifest.load(manifest_path(ctx.settings, config, devnet=not config.network.manifest))
    async with standalone_context(manifest=manifest, url=endpoint_urls(config)[0], clock=ctx.clock) as built:
        yield built


async def proposals_context(request: Request) -> AsyncIterator[ProposalsContext]:
    async with context_for(request) as ctx:
        yield ctx


Ctx = Annotated[ProposalsContext, Depends(proposals_context)]


class Review(BaseModel):
    verdict: Literal["approve", "reject"]
    note: str = Field(min_length=1, max_length=4000, description="What you checked.")


class LinkBody(BaseModel):
    change_id: int = Field(ge=1, le=2**31 - 1, description="The change request that carries the proposal.")


async def _answer(session: AsyncSession, ctx: ProposalsContext, proposal: int) -> dict[str, Any]:
    out = await detail(session, ctx, proposal=proposal)
    out["platform"] = {"connected": ctx.wired, "note": None if ctx.wired else OFFLINE_NOTE}
    return out


@router.get("", summary="Governance proposals, newest first", **guarded("proposals.read"))
async def proposals_list(
    session: DbSession,
    ctx: Ctx,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await list_proposals(session, ctx, status=status, limit=limit)


@router.get("/{proposal}", summary="One proposal and its review", **guarded("proposals.read"))
async def proposals_show(session: DbSession, ctx: Ctx, proposal: ProposalNo) -> dict[str, Any]:
    return await _answer(session, ctx, proposal)


@router.post("/{proposal}/simulate", summary="Simulate on a fork of the head", **guarded("proposals.review"))
async def proposals_simulate(
    session: DbSession, ctx: Ctx, actor: CurrentActor, proposal: ProposalNo
) -> dict[str, Any]:
    await service.simulate(session, ctx, proposal=proposal, actor=actor)
    return await _answer(session, ctx, proposal)


@router.post("/{proposal}/review", summary="Sign off the simulation", **guarded("proposals.review"))
async def proposals_review(
    session: DbSession, ctx: Ctx, actor: CurrentActor, proposal: ProposalNo, body: Review
) -> dict[str, Any]:
    await service.sign_off(session, ctx, proposal=proposal, actor=actor, verdict=body.verdict, note=body.note)
    return await _answer(session, ctx, proposal)


@router.post(
    "/{proposal}/verify", summary="Verify the effects after execution", **guarded("proposals.review")
)
async def proposals_verify(
    session: DbSession, ctx: Ctx, actor: CurrentActor, proposal: ProposalNo
) -> dict[str, Any]:
    await service.verify(session, ctx, proposal=proposal, actor=actor)
    return await _answer(session, ctx, proposal)


@router.post(
    "/{proposal}/links", status_code=201, summary="Link the change request", **guarded("proposals.review")
)
async def proposals_link(
    session: DbSession, ctx: Ctx, actor: CurrentActor, proposal: ProposalNo, body: LinkBody
) -> dict[str, Any]:
    await service.link(session, ctx, proposal=proposal, change_id=body.change_id, actor=actor)
    return await _answer(session, ctx, proposal)
