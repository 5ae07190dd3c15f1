"""An automatic policy acts once per *firing* of an alert: while the alert keeps firing (or confirms) it
does not act twice, but an alert that resolved and fires again — a second reserve drain after the first
was refilled — triggers the policy again."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from emergency.people import LEAD, OPS
from emergency.rig import Rig
from emergency.test_policies import BREACH, _clear, _fire, _pipeline
from fictra.emergency.config import PolicyConfig, PolicyMatch
from fictra.emergency.models import EmergencyAction


async def _triggers(rig: Rig) -> list[tuple[int | None, str]]:
    async with rig.sessions() as s:
        rows = await s.execute(
            select(EmergencyAction.trigger_alert_id, EmergencyAction.status)
            .where(EmergencyAction.policy == "reserve-drain-pause")
            .order_by(EmergencyAction.id)
        )
        return [(alert_id, status) for alert_id, status in rows.all()]


async def test_a_resolved_alert_that_fires_again_triggers_the_policy_again(rig: Rig) -> None:
    rig.runner.config.policies = {
        "reserve-drain-pause": PolicyConfig(
            name="reserve-drain-pause",
            when=PolicyMatch(monitor="contract-status", labels={"condition": "reserve_breach"}),
            action="pause_all",
        )
    }
    pipeline = _pipeline(rig)
    stop = asyncio.Event()
    loop = asyncio.ensure_future(rig.runner.run(stop))
    try:
        enable = await rig.propose("policy_enable", OPS, params={"policy": "reserve-drain-pause"})
        enable = await rig.approve(enable, LEAD)
        await rig.runner.dry_run(enable.id)
        assert (await rig.runner.execute(enable.id, OPS)).status == "verified"

        (alert_id,) = await _fire(rig, pipeline, BREACH)
        await rig.runner.settle()
        await _fire(rig, pipeline, BREACH)  # still firing: the same firing, no second action
        await rig.runner.settle()
        assert await _triggers(rig) == [(alert_id, "verified")]

        await _clear(rig, pipeline, BREACH)  # resolved (the reserve was refilled) ...
        rig.clock.advance(60)
        assert await _fire(rig, pipeline, BREACH) == [alert_id]  # ... and drained again: same alert row
        await rig.runner.settle()
        assert await _triggers(rig) == [(alert_id, "verified"), (alert_id, "verified")]
    finally:
        stop.set()
        await loop
