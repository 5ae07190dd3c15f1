"""From a decoded log to a ``repeated`` change: the rules engine carries the rule's ``notify_repeats``."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.models import EventKind
from fictra.alerting.values import AlertChange
from fictra.chain.artifacts import load
from fictra.chain.types import BlockBatch
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine
from fictra.rules.synthetic import PT, block, transfer, tx

WHALE = "0x" + "77" * 20


def batch_at(number: int, *values: int) -> BlockBatch:
    logs = tuple(transfer(PT, WHALE, PT, v, index=i) for i, v in enumerate(values))
    return BlockBatch("devnet", (block(number, (tx(logs=logs, n=number),)),), head=number, at_head=True)


@pytest.mark.parametrize(
    ("severity", "expected"), [("P1", ["fired", "repeated", "repeated"]), ("P3", ["fired"])]
)
async def test_a_rule_event_again_while_firing_is_a_repeated_change_with_its_occurrence(
    engine: AsyncEngine, clock: FakeClock, severity: str, expected: list[str]
) -> None:
    rule = EventRuleConfig(name="large", contract="PaymentToken", event="Transfer", severity=severity)
    rules = RulesEngine([rule], contracts={"PaymentToken": PT}, abis={PT: load("PaymentToken").abi})
    seen: list[AlertChange] = []

    async def record(changes: list[AlertChange], session: AsyncSession) -> None:
        seen.extend(changes)

    pipeline = AlertPipeline(monitors=[RulesMonitor(rules)], clock=clock, on_changes=record)
    factory = session_factory(engine)
    for batch in (batch_at(10, 500, 600), batch_at(11, 700, 800)):  # the first batch fires (count 2)
        async with factory() as session, session.begin():
            await pipeline.on_batch(batch, session)
    assert [c.kind.value for c in seen] == expected
    repeated = [c.occurrence_id for c in seen if c.kind == EventKind.REPEATED]
    assert len(set(repeated)) == len(repeated) and all(i is not None for i in repeated)
