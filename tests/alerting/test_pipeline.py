"""The pipeline as the follower's consumer: rules -> alerts in the caller's transaction, confirm, retract."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.findings import Clear
from fictra.alerting.queries import list_alerts
from fictra.alerting.service import AlertChange
from fictra.chain.artifacts import load
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.monitors.base import Monitor, MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine
from fictra.rules.synthetic import PT, block, transfer, tx

WHALE = "0x" + "77" * 20


class ClearOnReorg:
    """A monitor that withdraws a condition when a reorg happens (exercises on_reorg clears)."""

    name = "clearer"

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput()

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput(
            clears=[
                Clear(
                    monitor="large",
                    labels={"rule": "large", "contract": "PaymentToken", "event": "Transfer", "from": WHALE},
                )
            ]
        )


def pipeline(clock: FakeClock, seen: list[AlertChange], *extra: Monitor) -> AlertPipeline:
    rules = [
        EventRuleConfig(
            name="large",
            contract="PaymentToken",
            event="Transfer",
            condition="args.value > 100",
            severity="P1",
            confirmations=3,
            label_args=["from"],
            summary="{args.value} from {args.from}",
        )
    ]
    engine = RulesEngine(rules, contracts={"PaymentToken": PT}, abis={PT: load("PaymentToken").abi})

    async def record(changes: list[AlertChange], session: AsyncSession) -> None:
        seen.extend(changes)

    monitors: list[Monitor] = [RulesMonitor(engine), *extra]
    return AlertPipeline(monitors=monitors, clock=clock, on_changes=record)


def batch_at(number: int, *values: int, head: int | None = None) -> BlockBatch:
    logs = tuple(transfer(PT, WHALE, PT, v, index=i) for i, v in enumerate(values))
    return BlockBatch(
        "devnet",
        (block(number, (tx(logs=logs, n=number),)),),
        head=head or number,
        at_head=True,
        received_at=0.5,
    )


async def test_batches_become_alerts_that_confirm_and_commit_with_the_caller(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    seen: list[AlertChange] = []
    p = pipeline(clock, seen)
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await p.on_batch(batch_at(10, 500, 5, 700), session)
    async with factory() as session:
        [alert] = await list_alerts(session)
    assert (alert.count, alert.confirmation, alert.block_number) == (2, "provisional", 10)
    assert alert.summary == f"700 from {WHALE}"
    assert [c.kind for c in seen] == ["fired"]
    async with factory() as session, session.begin():
        await p.on_batch(batch_at(12), session)  # head 12: block 10 has 3 confirmations
    async with factory() as session:
        [alert] = await list_alerts(session)
    assert alert.confirmation == "confirmed"
    assert [c.kind for c in seen] == ["fired", "confirmed"]
    assert len(p.latencies) == 2


async def test_a_rolled_back_transaction_leaves_no_alert(engine: AsyncEngine, clock: FakeClock) -> None:
    p = pipeline(clock, [])
    factory = session_factory(engine)
    async with factory() as session:
        await p.on_batch(batch_at(10, 500), session)
        await session.rollback()  # e.g. the follower failed to advance its checkpoint
    async with factory() as session:
        assert await list_alerts(session) == []


async def test_reorg_retracts_and_monitors_may_clear(engine: AsyncEngine, clock: FakeClock) -> None:
    seen: list[AlertChange] = []
    p = pipeline(clock, seen, ClearOnReorg())
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await p.on_batch(batch_at(20, 500), session)
        await p.on_reorg(Reorg("devnet", common_ancestor=19, depth=1, old_hashes=(f"0x{20:064x}",)), session)
    async with factory() as session:
        [alert] = await list_alerts(session)
    assert (alert.confirmation, alert.status) == ("retracted", "resolved")
    assert [c.kind for c in seen] == ["fired", "retracted"]  # the clear found nothing firing any more


async def test_a_broken_rule_is_one_alert_not_a_crash(engine: AsyncEngine, clock: FakeClock) -> None:
    rules = [
        EventRuleConfig(name="broken", contract="PaymentToken", event="Transfer", condition="args.nope > 1"),
        EventRuleConfig(
            name="large", contract="PaymentToken", event="Transfer", condition="args.value > 100"
        ),
    ]
    rules_engine = RulesEngine(rules, contracts={"PaymentToken": PT}, abis={PT: load("PaymentToken").abi})
    p = AlertPipeline(monitors=[RulesMonitor(rules_engine)], clock=clock)
    factory = session_factory(engine)
    for number in (30, 31, 32):
        values = (500, 600) if number != 31 else ()
        async with factory() as session, session.begin():
            await p.on_batch(batch_at(number, *values), session)
    async with factory() as session:
        alerts = {a.monitor: a for a in await list_alerts(session)}
    assert set(alerts) == {"large", "rules-engine"}
    broken = alerts["rules-engine"]
    assert broken.labels["rule"] == "broken" and broken.severity == "P3"
    assert broken.count == 2  # two batches had errors; the quiet batch added nothing
    assert broken.evidence["errors_total"] == 4
    assert "KeyError" in broken.summary or "nope" in broken.summary
