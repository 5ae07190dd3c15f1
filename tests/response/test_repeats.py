"""A repeat of a firing one-off event notifies again (P0/P1 event rules by default), once per occurrence,
with that occurrence's block and evidence, without restarting the SLA clock; a P3 repeat only counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.models import Alert, AlertEvent, AlertOccurrence
from fictra.clock import FakeClock
from fictra.response.models import AlertResponse
from fictra.rules.config import EventRuleConfig

from .helpers import Harness, make_config

ROUTING = {"route": {"receiver": "ops-log", "group_wait": "30s"}}


def rule(severity: Severity, **extra: object) -> EventRuleConfig:
    return EventRuleConfig.model_validate(
        {
            "name": "role-granted",
            "contract": "PaymentToken",
            "event": "RoleGranted",
            "severity": severity,
            **extra,
        }
    )


def test_repeats_notify_by_default_for_p0_p1_only_and_the_rule_can_say_otherwise() -> None:
    assert [rule(s).repeats_notify for s in Severity] == [True, True, False, False]
    assert rule(Severity.P0, notify_repeats=False).repeats_notify is False
    assert rule(Severity.P3, notify_repeats=True).repeats_notify is True


def occurrence(cfg: EventRuleConfig, block: int) -> Finding:
    tx = f"0x{block:064x}"
    return Finding(
        monitor=cfg.name,
        severity=cfg.severity,
        summary=f"RoleGranted on PaymentToken in block {block}",
        labels={"rule": cfg.name, "contract": "PaymentToken"},
        block=BlockRef(block, f"0x{block + 1:064x}"),
        tx_hashes=(tx,),
        evidence={"tx_hash": tx, "block_number": block, "args": {"account": f"0x{block:040x}"}},
        notify_repeats=cfg.repeats_notify,
    )


@pytest.mark.parametrize("severity", [Severity.P0, Severity.P3])
async def test_a_second_matching_event_while_firing_notifies_once_more_unless_informational(
    sessions: async_sessionmaker[AsyncSession], severity: Severity
) -> None:
    clock = FakeClock()
    h = Harness(sessions, clock, make_config(routing=ROUTING))
    cfg = rule(severity)
    [alert_id] = await h.fire(occurrence(cfg, 100))
    clock.advance(60)
    await h.tick()  # the group's first flush: the firing notification
    before = await h.outbox()
    assert "group" in [n.idempotency_key.split(":")[0] for n in before]  # (P0 also escalates)
    async with sessions() as session:
        sla = await session.get(AlertResponse, alert_id)
        first = None if sla is None else (sla.fired_at, sla.ack_deadline)
        deadline = (await session.get(Alert, alert_id)).ack_deadline  # type: ignore[union-attr]

    clock.advance(600)
    await h.fire(occurrence(cfg, 205))  # no tick: what the repeat itself writes
    new = (await h.outbox())[len(before) :]
    async with sessions() as session:
        alert = await session.get(Alert, alert_id)
        occurrences = list(
            (
                await session.execute(
                    select(AlertOccurrence)
                    .where(AlertOccurrence.alert_id == alert_id)
                    .order_by(AlertOccurrence.id)
                )
            ).scalars()
        )
        kinds = [
            e.kind for e in (await session.execute(select(AlertEvent).order_by(AlertEvent.id))).scalars()
        ]
        sla = await session.get(AlertResponse, alert_id)
    assert alert is not None and alert.count == 2 and alert.status == "firing"
    assert [(o.kind, o.block_number) for o in occurrences] == [("fired", 100), ("repeat", 205)]
    assert alert.ack_deadline == deadline  # the SLA clock is not restarted
    assert (None if sla is None else (sla.fired_at, sla.ack_deadline)) == first
    if severity is Severity.P3:
        assert new == []
        assert kinds == ["fired"]
        return
    assert kinds == ["fired", "repeated"]
    [repeat] = new
    assert repeat.receiver == "ops-log"
    assert repeat.idempotency_key.startswith(f"repeat:{occurrences[1].id}:ops-log")
    message = repeat.message
    assert message["subject"] == "[P0] again: RoleGranted on PaymentToken in block 205"
    assert message["fields"]["block_number"] == "205" and message["fields"]["count"] == "2"
    assert message["evidence"]["tx_hash"] == f"0x{205:064x}"
    assert message["deadline"] is not None

    # a third and a fourth occurrence in one batch: one notification each; ticking adds no group re-send
    clock.advance(60)
    await h.fire(occurrence(cfg, 300), occurrence(cfg, 301))
    await h.tick()
    later = [
        n for n in (await h.outbox())[len(before) + 1 :] if not n.idempotency_key.startswith("escalation:")
    ]
    assert sorted(n.message["fields"]["block_number"] for n in later) == ["300", "301"]
