"""The review procedure of a proposal: simulate on a fork, sign off, link to its change request, verify
after execution. Every state change is audited in the caller's transaction; a refusal names what is
missing and writes nothing.

Sign-offs are bound to the simulation they reviewed (its hash): a new simulation leaves the earlier
sign-offs visible but no longer current. A proposal of **high** risk needs two reviewers' approvals
(distinct people), others one; a current rejection makes the review *rejected*.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.audit.service import record as audit_record
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.proposals import simulate as sim
from fictra.proposals.context import ProposalsContext
from fictra.proposals.models import GovProposal, GovProposalEvent, GovProposalLink

__all__ = ["VERDICTS", "link", "load", "review_state", "sign_off", "simulate", "simulation_hash", "verify"]

VERDICTS = ("approve", "reject")


async def load(session: AsyncSession, proposal: int) -> GovProposal:
    row = await session.get(GovProposal, proposal)
    if row is None:
        raise NotFoundError(f"No governance proposal #{proposal}. List them with `fictra proposals list`.")
    return row


def simulation_hash(simulation: dict[str, Any] | None) -> str | None:
    if simulation is None:
        return None
    body = {k: v for k, v in simulation.items() if k not in ("at", "by", "hash")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def required_signoffs(risk: str) -> int:
    return 2 if risk == "high" else 1


def review_state(row: GovProposal) -> dict[str, Any]:
    """Where the review stands and what it waits for."""
    current = simulation_hash(row.simulation)
    signoffs = [s for s in row.signoffs if s.get("simulation") == current] if current else []
    approvals = sorted({s["reviewer"] for s in signoffs if s["verdict"] == "approve"})
    rejections = sorted({s["reviewer"] for s in signoffs if s["verdict"] == "reject"})
    need = required_signoffs(row.risk)
    waits: list[str] = []
    if row.simulation is None:
        state = "awaiting simulation"
        waits.append("a simulation on a fork of the chain head")
    elif rejections:
        state = "rejected"
    elif len(approvals) < need:
        state = "awaiting sign-off"
        waits.append(f"{need - len(approvals)} more reviewer approval(s) ({row.risk} risk needs {need})")
    else:
        state = "signed off"
    if row.status == "executed":
        if row.verification is None:
            state = "awaiting verification"
            waits.append("the implementation review (verify the effects on chain)")
        else:
            state = "verified" if row.verification.get("ok") else "verification failed"
    return {
        "state": state,
        "waits_for": waits,
        "approvals": approvals,
        "rejections": rejections,
        "required": need,
        "simulation_hash": current,
    }


async def _head(ctx: ProposalsContext) -> int:
    return int(str(await ctx.rpc("eth_blockNumber", [])), 16)


async def simulate(
    session: AsyncSession, ctx: ProposalsContext, *, proposal: int, actor: object
) -> GovProposal:
    """Run the proposal's calls on a fork of the chain head as the Timelock; store the result."""
    row = await load(session, proposal)
    if row.status in ("executed", "canceled", "defeated"):
        raise ConflictError(
            f"Proposal #{row.id} is {row.status}: a simulation on the current chain would not show its "
            "effect. "
            + ("Verify it instead (`fictra proposals review --verify`)." if row.status == "executed" else "")
        )
    head = await _head(ctx)
    result = await sim.simulate(
        manifest=ctx.manifest, calls=row.calls, start_fork=ctx.start_fork, fork_url=ctx.fork_url, block=head
    )
    result["hash"] = simulation_hash(result)
    result["at"], result["by"] = ctx.clock.now().isoformat(), actor_name(actor)
    before = {"simulation": simulation_hash(row.simulation)}
    row.simulation, row.updated_at = result, ctx.clock.now()
    await audit_record(
        session, actor=actor, action="proposal.simulate", target=f"proposal:{row.id}", before=before,
        after={"simulation": result["hash"], "block": head, "ok": result["ok"],
               "changes": [c["probe"] for c in result["changes"]]},
        clock=ctx.clock,
    )  # fmt: skip
    return row


async def sign_off(
    session: AsyncSession, ctx: ProposalsContext, *, proposal: int, actor: object, verdict: str, note: str
) -> GovProposal:
    """A reviewer's approval or rejection of the current simulation."""
    if verdict not in VERDICTS:
        raise UsageError(f"Review verdict '{verdict}' is unknown; use one of: {', '.join(VERDICTS)}.")
    if not note.strip():
        raise UsageError("A review sign-off needs a note (what you checked).")
    row = await load(session, proposal)
    current = simulation_hash(row.simulation)
    reviewer = actor_name(actor)
    missing = []
    if current is None:
        missing.append("no simulation yet (simulate it first)")
    if row.status in ("executed", "canceled", "defeated"):
        missing.append(f"the proposal is already {row.status}")
    if any(s["reviewer"] == reviewer and s.get("simulation") == current for s in row.signoffs):
        missing.append(f"{reviewer} already signed off this simulation (a second reviewer must)")
    if missing:
        raise ConflictError(f"Proposal #{row.id} cannot be signed off: {'; '.join(missing)}.")
    entry = {"reviewer": reviewer, "verdict": verdict, "note": note.strip(), "simulation": current,
             "at": ctx.clock.now().isoformat()}  # fmt: skip
    row.signoffs = [*row.signoffs, entry]
    row.updated_at = ctx.clock.now()
    await audit_record(
        session, actor=actor, action="proposal.review", target=f"proposal:{row.id}",
        after={"verdict": verdict, "simulation": current, "note": entry["note"]}, clock=ctx.clock,
    )  # fmt: skip
    return row


async def link(
    session: AsyncSession, ctx: ProposalsContext, *, proposal: int, change_id: int, actor: object
) -> GovProposalLink:
    """Name change request ``change_id`` as the change of the proposal (clears the P1 on the next block)."""
    row = await load(session, proposal)
    if not await ctx.change_exists(session, change_id):
        raise NotFoundError(
            f"No change request #{change_id}. Request it first (`fictra changes new`, the console, the API)."
        )
    existing = await session.execute(
        select(GovProposalLink.id).where(
            GovProposalLink.proposal == row.id, GovProposalLink.change_id == change_id
        )
    )
    if existing.first() is not None:
        raise ConflictError(f"Proposal #{row.id} is already linked to change request #{change_id}.")
    item = GovProposalLink(
        proposal=row.id, change_id=change_id, linked_by=actor_name(actor), linked_at=ctx.clock.now()
    )
    session.add(item)
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(f"Proposal #{row.id} is already linked to change request #{change_id}.") from None
    await audit_record(
        session, actor=actor, action="proposal.link", target=f"proposal:{row.id}",
        after={"change_id": change_id}, clock=ctx.clock,
    )  # fmt: skip
    return item


async def executed_tx(session: AsyncSession, row: GovProposal) -> str | None:
    found = await session.execute(
        select(GovProposalEvent.tx_hash).where(
            GovProposalEvent.proposal == row.id, GovProposalEvent.kind == "executed"
        )
    )
    first = found.first()
    return str(first[0]) if first is not None else None


async def verify(
    session: AsyncSession, ctx: ProposalsContext, *, proposal: int, actor: object
) -> GovProposal:
    """The implementation review: the executed proposal's effects on chain against the simulation."""
    row = await load(session, proposal)
    missing = []
    if row.status != "executed" or row.executed_block is None:
        missing.append(f"it is {row.status}, not executed")
    if row.simulation is None:
        missing.append("it was never simulated (nothing to compare with)")
    if missing:
        raise ConflictError(f"Proposal #{row.id} cannot be verified: {'; '.join(missing)}.")
    result = await sim.verify(
        manifest=ctx.manifest, simulation=row.simulation or {}, calls=row.calls, rpc=ctx.rpc,
        executed_block=int(row.executed_block or 0), executed_tx=await executed_tx(session, row),
    )  # fmt: skip
    result["at"], result["by"] = ctx.clock.now().isoformat(), actor_name(actor)
    row.verification, row.updated_at = result, ctx.clock.now()
    await audit_record(
        session, actor=actor, action="proposal.verify", target=f"proposal:{row.id}",
        after={"ok": result["ok"], "checks": result["checks"], "events_ok": result["events_ok"]},
        clock=ctx.clock,
    )  # fmt: skip
    return row
