"""Read models of proposals: the list and one proposal's detail (calls, votes, timeline, references,
simulation, review state, verification)."""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.errors import ChainError, UsageError
from fictra.proposals.context import ProposalsContext
from fictra.proposals.follow import CLOSED, references
from fictra.proposals.models import GovProposal, GovProposalEvent
from fictra.proposals.service import load, review_state

__all__ = ["STATUSES", "detail", "list_proposals", "phase", "summary"]

STATUSES = ("created", "queued", "executed", "canceled", "defeated")


def phase(row: GovProposal, head: int | None) -> str:
    """Where a proposal is: its recorded status, or (while created) pending/active/vote ended by block."""
    if row.status != "created" or head is None:
        return row.status
    if head <= row.vote_start:  # the Governor's own rule: pending while clock() <= snapshot
        return "pending"
    return "active" if head <= row.vote_end else "vote ended"


# Governor.ProposalState values after the vote (OpenZeppelin 5)
_ENDED = {3: "defeated", 4: "succeeded", 6: "expired"}
_STATE_SELECTOR = "0x" + keccak(text="state(uint256)")[:4].hex()


async def _ended(ctx: ProposalsContext, rows: list[GovProposal], head: int | None) -> dict[int, str]:
    """Defeated or succeeded, from the Governor, for proposals whose vote has ended (one eth_call each)."""
    out: dict[int, str] = {}
    for row in rows:
        if row.status != "created" or head is None or head <= row.vote_end:
            continue
        data = _STATE_SELECTOR + int(row.proposal_id).to_bytes(32, "big").hex()
        try:
            raw = await ctx.rpc("eth_call", [{"to": row.governor, "data": data}, "latest"])
            out[row.id] = _ENDED.get(int(str(raw), 16), "vote ended")
        except (ChainError, ValueError):  # the phase falls back to "vote ended" without the chain
            out[row.id] = "vote ended"
    return out


def summary(
    row: GovProposal, *, head: int | None = None, changes: list[int] | None = None, ended: str | None = None
) -> dict[str, Any]:
    review = review_state(row)
    return {
        "id": row.id,
        "proposal_id": row.proposal_id,
        "description": row.description,
        "proposer": row.proposer,
        "status": row.status,
        "phase": ended or phase(row, head),
        "risk": row.risk,
        "calls": [c.get("signature") or c.get("calldata", "")[:10] for c in row.calls],
        "contracts": sorted({str(c.get("contract") or c.get("target")) for c in row.calls}),
        "votes": row.votes,
        "review": review["state"],
        "changes": changes or [],
        "unreferenced": row.status not in CLOSED and not changes,
        "created_block": row.created_block,
        "updated_at": row.updated_at.isoformat(),
    }


async def _head(ctx: ProposalsContext | None) -> int | None:
    if ctx is None:
        return None
    try:
        return int(str(await ctx.rpc("eth_blockNumber", [])), 16)
    except (ChainError, ValueError):  # the list still shows without the chain (phase: the status)
        return None


async def list_proposals(
    session: AsyncSession, ctx: ProposalsContext | None, *, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise UsageError(f"Unknown proposal status '{status}'; statuses: {', '.join(STATUSES)}.")
    stmt = select(GovProposal).order_by(GovProposal.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(GovProposal.status == status)
    rows = list((await session.execute(stmt)).scalars())
    refs = await references(session, [r.id for r in rows], ctx.changes_referencing) if ctx else {}
    head = await _head(ctx)
    ended = await _ended(ctx, rows, head) if ctx else {}
    return [summary(r, head=head, changes=refs.get(r.id, []), ended=ended.get(r.id)) for r in rows]


async def detail(session: AsyncSession, ctx: ProposalsContext | None, *, proposal: int) -> dict[str, Any]:
    row = await load(session, proposal)
    refs = await references(session, [row.id], ctx.changes_referencing) if ctx else {}
    events = (
        await session.execute(
            select(GovProposalEvent)
            .where(GovProposalEvent.proposal == row.id)
            .order_by(GovProposalEvent.block_number, GovProposalEvent.log_index)
        )
    ).scalars()
    head = await _head(ctx)
    ended = await _ended(ctx, [row], head) if ctx else {}
    return {
        **summary(row, head=head, changes=refs.get(row.id, []), ended=ended.get(row.id)),
        "governor": row.governor,
        "created_tx": row.created_tx,
        "vote_start": row.vote_start,
        "vote_end": row.vote_end,
        "eta": row.eta,
        "executed_block": row.executed_block,
        "risk_reasons": list(row.risk_reasons),
        "decoded_calls": list(row.calls),
        "alerted": row.alerted,
        "simulation": row.simulation,
        "signoffs": list(row.signoffs),
        "review_state": review_state(row),
        "verification": row.verification,
        "events": [
            {"block": e.block_number, "tx": e.tx_hash, "kind": e.kind, "args": e.args} for e in events
        ],
    }


async def open_counts(session: AsyncSession) -> dict[str, int]:
    """For the live view: proposals not yet executed or canceled, those raising the unreferenced P1,
    and those whose review is not signed off yet."""
    rows = list(
        (
            await session.execute(select(GovProposal).where(GovProposal.status.in_(("created", "queued"))))
        ).scalars()
    )
    return {
        "open": len(rows),
        "unreferenced": sum(1 for r in rows if r.alerted),
        "unreviewed": sum(1 for r in rows if review_state(r)["state"] != "signed off"),
    }
