"""The block monitor that follows the Governor: its proposals, votes, queuing, execution and
cancellation, recorded in the follower's transaction (so a crash before the checkpoint commits changes
nothing, and a batch is never recorded twice), and the P1 "no change request references it".

``ProposalCreated`` adds a proposal (its calls decoded against the manifest, its risk computed);
``VoteCast``/``VoteCastWithParams`` add to its totals; ``ProposalQueued``, ``ProposalExecuted`` and
``ProposalCanceled`` move its status. Each event is kept with its block, so a reorg deletes what the
removed blocks said and re-derives the rest. Events of a proposal created before the follower started
are skipped (the follower watches from its start block on).

A proposal whose vote has ended is asked of the Governor (``state()`` through a callable, one call per
proposal, at the head): *defeated* is recorded as its status (nothing can run it any more); *succeeded*
waits for its ``ProposalQueued`` event.

After each batch, a proposal that is not canceled or defeated and that no change request references (the
change's ``proposal_id`` or a link made through the proposals API) raises a P1 finding of the monitor
``governance.proposals``; once referenced (or canceled, or defeated) the alert is cleared on the next
batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.chain import artifacts
from fictra.chain.decode import DecodeError, EventDecoder, event_decoders
from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, BlockBatch, Log, Reorg
from fictra.clock import Clock
from fictra.errors import ChainError
from fictra.monitors.base import MonitorOutput
from fictra.proposals.calls import decode_calls, risk_of
from fictra.proposals.models import GovProposal, GovProposalEvent, GovProposalLink

__all__ = [
    "CLOSED",
    "MONITOR",
    "ChangesReferencing",
    "GovernorState",
    "ProposalsMonitor",
    "derive",
    "references",
]

MONITOR = "governance.proposals"
GOVERNOR = "Governor"
_KINDS = {
    "ProposalCreated": "created",
    "VoteCast": "vote",
    "VoteCastWithParams": "vote",
    "ProposalQueued": "queued",
    "ProposalExecuted": "executed",
    "ProposalCanceled": "canceled",
}
_SUPPORT = {0: "against", 1: "for", 2: "abstain"}

CLOSED = ("canceled", "defeated")  # nothing can execute these any more
_DEFEATED, _SUCCEEDED = 3, 4  # Governor.ProposalState

# (governor address, proposal id as a decimal string) -> Governor.state(id) at the head
GovernorState = Callable[[str, str], Awaitable[int]]

# the change requests naming each proposal in their own ``proposal_id`` field: {proposal row id: [change ids]}
ChangesReferencing = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, list[int]]]]


async def no_changes(session: AsyncSession, ids: Sequence[int]) -> Mapping[int, list[int]]:
    return {}


async def references(
    session: AsyncSession, ids: Sequence[int], changes_referencing: ChangesReferencing
) -> dict[int, list[int]]:
    """Change ids referencing each proposal: the change's own field and the links, merged and sorted."""
    out: dict[int, set[int]] = {i: set() for i in ids}
    if not ids:
        return {}
    for pid, change_ids in (await changes_referencing(session, ids)).items():
        out.setdefault(pid, set()).update(change_ids)
    rows = await session.execute(
        select(GovProposalLink.proposal, GovProposalLink.change_id).where(GovProposalLink.proposal.in_(ids))
    )
    for pid, change_id in rows:
        out[pid].add(change_id)
    return {k: sorted(v) for k, v in out.items()}


def derive(events: Sequence[GovProposalEvent]) -> tuple[str, dict[str, str], int | None, int | None]:
    """(status, vote totals, eta, executed block) from a proposal's events in chain order."""
    status, totals, eta, executed = "created", {"for": 0, "against": 0, "abstain": 0}, None, None
    for e in sorted(events, key=lambda e: (e.block_number, e.log_index)):
        if e.kind == "vote":
            side = _SUPPORT.get(int(e.args.get("support", -1)))
            if side is not None:
                totals[side] += int(e.args.get("weight", 0))
        elif e.kind == "queued":
            status, eta = "queued", int(e.args.get("etaSeconds", 0))
        elif e.kind == "executed":
            status, executed = "executed", e.block_number
        elif e.kind == "canceled":
            status = "canceled"
    return status, {k: str(v) for k, v in totals.items()}, eta, executed


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    """uint256 values beyond 2**53 as decimal strings (JSON columns, browsers)."""
    return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 else v
            for k, v in args.items()}  # fmt: skip


class ProposalsMonitor:
    """A block monitor (``fictra.monitors.base.Monitor``) over the manifest's Governor."""

    name = MONITOR

    def __init__(
        self,
        *,
        manifest: Manifest,
        clock: Clock,
        changes_referencing: ChangesReferencing = no_changes,
        governor_state: GovernorState | None = None,
        severity: Severity = Severity.P1,
    ) -> None:
        self.manifest = manifest
        self.network = manifest.network
        self.clock = clock
        self.changes_referencing = changes_referencing
        self.severity = severity
        self.governor_state = governor_state
        self._succeeded: set[int] = set()  # asked already: waiting for ProposalQueued (saves RPC calls)
        entry = manifest.contracts.get(GOVERNOR)
        self.governor = entry.address.lower() if entry is not None else None
        abi = artifacts.load(entry.artifact).entries("event") if entry is not None else []
        self.decoders: dict[str, EventDecoder] = {
            d.topic0: d for d in event_decoders(abi) if d.name in _KINDS
        }

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        output = MonitorOutput()
        if self.governor is None:
            return output
        for block in batch.blocks:
            for tx in block.txs:
                if tx.status != 1:
                    continue
                for log in tx.logs:
                    if log.address.lower() == self.governor and log.topics and log.topics[0] in self.decoders:
                        await self._record(session, block, log)
        last = batch.blocks[-1]
        await self._votes_ended(session, last.number)
        output.extend(await self._alerts(session, BlockRef(last.number, last.hash)))
        return output

    async def _record(self, session: AsyncSession, block: Block, log: Log) -> None:
        decoder = self.decoders[log.topics[0]]
        try:
            args = decoder.decode(log)
        except DecodeError:
            return
        kind, pid = _KINDS[decoder.name], str(args["proposalId"])
        row = await self._proposal(session, pid)
        if kind == "created":
            if row is not None:
                return  # already recorded (the same event seen again after a restart)
            row = self._new(args, block, log)
            session.add(row)
            await session.flush()
        elif row is None:
            return  # created before the follower started: not followed
        session.add(
            GovProposalEvent(
                proposal=row.id,
                network=self.network,
                block_number=block.number,
                log_index=log.log_index,
                tx_hash=log.tx_hash,
                kind=kind,
                args=_jsonable({k: v for k, v in args.items() if k not in ("calldatas", "description")}),
            )
        )
        await session.flush()
        await self._rederive(session, row)

    def _new(self, args: dict[str, Any], block: Block, log: Log) -> GovProposal:
        calls = decode_calls(
            self.manifest, list(args["targets"]), list(args["values"]), list(args["calldatas"])
        )
        risk, reasons = risk_of(calls)
        now = self.clock.now()
        return GovProposal(
            network=self.network,
            proposal_id=str(args["proposalId"]),
            governor=log.address.lower(),
            proposer=str(args["proposer"]).lower(),
            description=str(args["description"]),
            calls=[_call_json(c.as_dict()) for c in calls],
            risk=risk,
            risk_reasons=reasons,
            vote_start=int(args["voteStart"]),
            vote_end=int(args["voteEnd"]),
            status="created",
            votes={"for": "0", "against": "0", "abstain": "0"},
            created_block=block.number,
            created_tx=log.tx_hash,
            alerted=False,
            signoffs=[],
            created_at=now,
            updated_at=now,
        )

    async def _proposal(self, session: AsyncSession, pid: str) -> GovProposal | None:
        return (
            await session.execute(
                select(GovProposal).where(GovProposal.network == self.network, GovProposal.proposal_id == pid)
            )
        ).scalar_one_or_none()

    async def _rederive(self, session: AsyncSession, row: GovProposal) -> None:
        events = (
            await session.execute(select(GovProposalEvent).where(GovProposalEvent.proposal == row.id))
        ).scalars()
        status, votes, eta, executed = derive(list(events))
        if (status, votes, eta, executed) != (row.status, row.votes, row.eta, row.executed_block):
            row.status, row.votes, row.eta, row.executed_block = status, votes, eta, executed
            row.updated_at = self.clock.now()

    async def _votes_ended(self, session: AsyncSession, block: int) -> None:
        """Record *defeated* for proposals whose vote ended without passing (asked of the Governor)."""
        if self.governor_state is None:
            return
        rows = (
            await session.execute(
                select(GovProposal).where(
                    GovProposal.network == self.network,
                    GovProposal.status == "created",
                    GovProposal.vote_end < block,
                )
            )
        ).scalars()
        for row in rows:
            if row.id in self._succeeded:
                continue
            try:
                state = await self.governor_state(row.governor, row.proposal_id)
            except ChainError:
                continue  # asked again with the next batch
            if state == _DEFEATED:
                row.status, row.updated_at = "defeated", self.clock.now()
            elif state == _SUCCEEDED:
                self._succeeded.add(row.id)

    async def _alerts(self, session: AsyncSession, at: BlockRef) -> MonitorOutput:
        rows = list(
            (
                await session.execute(
                    select(GovProposal).where(
                        GovProposal.network == self.network,
                        (GovProposal.alerted.is_(True)) | (GovProposal.status.not_in(CLOSED)),
                    )
                )
            ).scalars()
        )
        output = MonitorOutput()
        if not rows:
            return output
        refs = await references(session, [r.id for r in rows], self.changes_referencing)
        for row in rows:
            wanted = row.status not in CLOSED and not refs.get(row.id)
            labels = {"contract": GOVERNOR, "condition": "proposal_unreferenced", "proposal": row.proposal_id}
            if wanted and not row.alerted:
                output.findings.append(
                    Finding(
                        monitor=MONITOR,
                        severity=self.severity,
                        summary=f"Governance proposal #{row.id} ({row.risk} risk: {row.description[:80]!r}) "
                        "is not referenced by any change request",
                        labels=labels,
                        network=self.network,
                        block=at,
                        tx_hashes=(row.created_tx,),
                        evidence={
                            "proposal": row.id,
                            "status": row.status,
                            "risk": row.risk,
                            "calls": [c.get("signature") for c in row.calls],
                        },
                    )
                )
                row.alerted = True
            elif row.alerted and not wanted:
                output.clears.append(Clear(monitor=MONITOR, labels=labels, network=self.network, block=at))
                row.alerted = False
        return output

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Forget what the removed blocks said (their events, the proposals they created); re-derive."""
        after = reorg.common_ancestor
        gone = [
            r
            for (r,) in await session.execute(
                select(GovProposal.id).where(
                    GovProposal.network == self.network, GovProposal.created_block > after
                )
            )
        ]
        touched = {
            p
            for (p,) in await session.execute(
                select(GovProposalEvent.proposal).where(
                    GovProposalEvent.network == self.network, GovProposalEvent.block_number > after
                )
            )
        }
        await session.execute(
            delete(GovProposalEvent).where(
                GovProposalEvent.network == self.network, GovProposalEvent.block_number > after
            )
        )
        if gone:
            await session.execute(delete(GovProposalEvent).where(GovProposalEvent.proposal.in_(gone)))
            await session.execute(delete(GovProposalLink).where(GovProposalLink.proposal.in_(gone)))
            await session.execute(delete(GovProposal).where(GovProposal.id.in_(gone)))
        self._succeeded.clear()
        for pid in touched - set(gone):
            row = await session.get(GovProposal, pid)
            if row is not None:
                await self._rederive(session, row)
        # an alert anchored on a removed block is retracted by the pipeline: raise it again on the next
        # batch if it still holds (a still-firing alert is the same fingerprint: nothing new is notified)
        await session.execute(
            update(GovProposal).where(GovProposal.network == self.network).values(alerted=False)
        )
        return MonitorOutput()


def _call_json(call: dict[str, Any]) -> dict[str, Any]:
    if call.get("args"):
        call["args"] = _jsonable(call["args"])
    return call
