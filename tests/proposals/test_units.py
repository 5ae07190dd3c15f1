"""Pure parts and the block monitor without a chain: calls decoded against the manifest and their risk,
the status derived from events, the review state (two reviewers for high risk, a new simulation voids
earlier sign-offs), and the monitor on hand-built Governor logs in a real database (SQLite and
PostgreSQL): the P1 raised once and cleared by a link, the same event seen twice recorded once, a reorg
forgetting a vote and then the proposal, nothing written when the batch's transaction rolls back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.types import Block, BlockBatch, Log, Reorg, Tx
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.proposals.calls import decode_calls, risk_of
from fictra.proposals.follow import ProposalsMonitor, derive
from fictra.proposals.models import GovProposal, GovProposalEvent, GovProposalLink
from fictra.proposals.service import review_state, simulation_hash

GOV = "0x" + "11" * 20
PT = "0x" + "22" * 20
TL = "0x" + "33" * 20
MANIFEST = Manifest(
    chain_id=31337,
    rpc_url="http://127.0.0.1:1",
    contracts={
        "Governor": ContractEntry(address=GOV, artifact="FictraGovernor"),
        "PaymentToken": ContractEntry(address=PT, artifact="PaymentToken", proxy=True),
        "Timelock": ContractEntry(address=TL, artifact="FictraTimelock"),
    },
)


def sel(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def set_fee(bps: int) -> str:
    return sel("setFee(uint16)") + encode(["uint16"], [bps]).hex()


def test_calls_are_decoded_by_manifest_name_and_risk_is_the_highest_call() -> None:
    grant = sel("grantRole(bytes32,address)") + encode(["bytes32", "address"], [b"\1" * 32, TL]).hex()
    calls = decode_calls(MANIFEST, [PT, PT], [0, 0], [set_fee(60), grant])
    assert [(c.contract, c.function, c.args) for c in calls] == [
        ("PaymentToken", "setFee", {"newFeeBps": 60}),
        ("PaymentToken", "grantRole", {"role": "0x" + "01" * 32, "account": TL}),
    ]
    assert risk_of(calls[:1]) == ("medium", ["call 0 (PaymentToken.setFee): changes contract state"])
    level, reasons = risk_of(calls)
    assert (
        level == "high"
        and reasons[1] == "call 1 (PaymentToken.grantRole): upgrade, role or governance setting"
    )
    view = decode_calls(MANIFEST, [PT], [0], [sel("feeBps()")])
    assert risk_of(view) == ("low", ["no state-changing call"])


@pytest.mark.parametrize(
    ("target", "value", "data", "reason"),
    [
        ("0x" + "99" * 20, 0, set_fee(1), "unknown target"),
        (PT, 0, "0xdeadbeef", "selector 0xdeadbeef is not in the PaymentToken ABI"),
        (PT, 0, sel("setFee(uint16)") + "00", "calldata not decoded"),
        (PT, 5, set_fee(1), "sends 5 wei"),
    ],
)
def test_what_cannot_be_read_or_moves_ether_is_high_risk(
    target: str, value: int, data: str, reason: str
) -> None:
    level, reasons = risk_of(decode_calls(MANIFEST, [target], [value], [data]))
    assert level == "high" and any(reason in r for r in reasons), reasons


def _event(kind: str, block: int, index: int = 0, **args: Any) -> GovProposalEvent:
    return GovProposalEvent(proposal=1, network="devnet", block_number=block, log_index=index, tx_hash="0x",
                            kind=kind, args=args)  # fmt: skip


def test_status_and_totals_are_derived_from_the_events_in_chain_order() -> None:
    events = [
        _event("executed", 9),
        _event("vote", 3, support=1, weight=7),
        _event("vote", 3, 1, support=0, weight=2),
        _event("vote", 4, support=2, weight=1),
        _event("queued", 5, etaSeconds=1234),
    ]
    assert derive(events) == ("executed", {"for": "7", "against": "2", "abstain": "1"}, 1234, 9)
    assert derive(events[1:3])[0] == "created"
    assert derive([*events, _event("canceled", 4)])[0] == "executed"  # the last event in chain order wins


def _row(risk: str, signoffs: list[dict[str, Any]], simulation: dict[str, Any] | None) -> GovProposal:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return GovProposal(id=1, risk=risk, status="created", signoffs=signoffs, simulation=simulation,
                       verification=None, created_at=now, updated_at=now)  # fmt: skip


def test_review_needs_two_reviewers_for_high_risk_and_a_new_simulation_voids_sign_offs() -> None:
    sim = {"block": 10, "changes": [], "events": [], "ok": True}
    h = simulation_hash(sim)
    one = [{"reviewer": "a", "verdict": "approve", "simulation": h}]
    assert review_state(_row("medium", one, sim))["state"] == "signed off"
    high = review_state(_row("high", one, sim))
    assert high["state"] == "awaiting sign-off" and high["waits_for"] == [
        "1 more reviewer approval(s) (high risk needs 2)"
    ]
    two = [*one, {"reviewer": "b", "verdict": "approve", "simulation": h}]
    assert review_state(_row("high", two, sim))["state"] == "signed off"
    rejected = [*one, {"reviewer": "b", "verdict": "reject", "simulation": h}]
    assert review_state(_row("high", rejected, sim))["state"] == "rejected"
    newer = review_state(_row("medium", one, {**sim, "block": 11}))
    assert newer["state"] == "awaiting sign-off" and newer["approvals"] == []
    assert review_state(_row("low", [], None))["waits_for"] == ["a simulation on a fork of the chain head"]


# -- the block monitor on hand-built logs ---------------------------------------------------------------

CREATED_TOPIC = (
    "0x"
    + keccak(
        text="ProposalCreated(uint256,address,address[],uint256[],string[],bytes[],uint256,uint256,string)"
    ).hex()
)
VOTE_TOPIC = "0x" + keccak(text="VoteCast(address,uint256,uint8,uint256,string)").hex()
PID = 2**255 + 12345  # proposal ids are uint256 hashes


def _log(block: int, topics: list[str], data: bytes, index: int = 0) -> Log:
    return Log(GOV, tuple(topics), "0x" + data.hex(), index, f"0x{block:064x}", 0, block, f"0x{block:064x}")


def created(block: int) -> Log:
    data = encode(
        [
            "uint256",
            "address",
            "address[]",
            "uint256[]",
            "string[]",
            "bytes[]",
            "uint256",
            "uint256",
            "string",
        ],
        [PID, TL, [PT], [0], [""], [bytes.fromhex(set_fee(60)[2:])], block + 1, block + 31, "PT fee to 60"],
    )
    return _log(block, [CREATED_TOPIC], data)


def vote(block: int, weight: int) -> Log:
    voter = "0x" + "00" * 12 + "44" * 20
    return _log(
        block, [VOTE_TOPIC, voter], encode(["uint256", "uint8", "uint256", "string"], [PID, 1, weight, ""])
    )


def batch(block: int, *logs: Log) -> BlockBatch:
    tx = Tx(f"0x{block:064x}", 0, TL, GOV, 0, "0x", 0, 0, None, None, 0, 1, 0, 0, None, tuple(logs))
    b = Block(block, f"0x{block:064x}", f"0x{block - 1:064x}", 0, 0, 0, None, TL, (tx,))
    return BlockBatch(network="devnet", blocks=(b,), head=block, at_head=True)


async def test_monitor_records_in_the_batch_transaction_and_follows_reorgs(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    monitor = ProposalsMonitor(manifest=MANIFEST, clock=FakeClock())
    async with sessions() as session, session.begin():  # a crash before the checkpoint: rolled back
        await monitor.on_batch(batch(10, created(10)), session)
        await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(GovProposal)) == 0

    async with sessions() as session, session.begin():
        out = await monitor.on_batch(batch(10, created(10)), session)
    [finding] = out.findings
    assert finding.severity == "P1" and finding.labels["proposal"] == str(PID)
    assert "is not referenced by any change request" in finding.summary
    async with sessions() as session, session.begin():
        again = await monitor.on_batch(batch(11, created(10), vote(11, 5)), session)  # re-seen: recorded once
    assert again.findings == [] and again.clears == []
    async with sessions() as session:
        [row] = (await session.execute(select(GovProposal))).scalars()
        assert (row.proposal_id, row.risk, row.votes["for"], row.calls[0]["args"]) == (
            str(PID), "medium", "5", {"newFeeBps": 60}
        )  # fmt: skip

    async with sessions() as session, session.begin():  # a change request is linked: cleared once
        session.add(GovProposalLink(proposal=row.id, change_id=7, linked_by="t", linked_at=FakeClock().now()))
    async with sessions() as session, session.begin():
        cleared = await monitor.on_batch(batch(12), session)
    assert [c.labels["proposal"] for c in cleared.clears] == [str(PID)] and cleared.findings == []
    async with sessions() as session, session.begin():
        assert (await monitor.on_batch(batch(13), session)).clears == []

    reorg = Reorg(network="devnet", common_ancestor=10, depth=3, old_hashes=("x", "y", "z"))
    async with sessions() as session, session.begin():
        await monitor.on_reorg(reorg, session)
    async with sessions() as session:
        assert (await session.get(GovProposal, row.id)).votes["for"] == "0"  # type: ignore[union-attr]

    async with sessions() as session, session.begin():
        await monitor.on_reorg(
            Reorg(network="devnet", common_ancestor=9, depth=2, old_hashes=("x", "y")), session
        )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(GovProposal)) == 0
        assert await session.scalar(select(func.count()).select_from(GovProposalEvent)) == 0


async def test_a_defeated_proposal_is_recorded_and_its_p1_cleared(engine: AsyncEngine) -> None:
    asked: list[tuple[str, str]] = []

    async def governor_state(governor: str, proposal_id: str) -> int:  # the Governor's answer: Defeated
        asked.append((governor, proposal_id))
        return 3

    sessions = session_factory(engine)
    monitor = ProposalsMonitor(manifest=MANIFEST, clock=FakeClock(), governor_state=governor_state)
    async with sessions() as session, session.begin():
        assert len((await monitor.on_batch(batch(10, created(10)), session)).findings) == 1
    async with sessions() as session, session.begin():
        assert (await monitor.on_batch(batch(41), session)).clears == []  # vote_end 41: not over yet
    assert asked == []
    async with sessions() as session, session.begin():
        out = await monitor.on_batch(batch(42), session)
    assert [c.labels["proposal"] for c in out.clears] == [str(PID)] and asked == [(GOV, str(PID))]
    async with sessions() as session:
        assert (await session.execute(select(GovProposal.status))).scalar_one() == "defeated"
    async with sessions() as session, session.begin():
        await monitor.on_batch(batch(43), session)
    assert len(asked) == 1  # decided: not asked again
