"""Automatic response as a stage after the alert store: :class:`PolicyStage` is an
``on_changes(changes, session)`` callable the integrator puts in the stage list. An enabled policy's
matching alert proposes a pre-approved action in the alert store's transaction; once that transaction
commits, ``wake`` (the runner's :meth:`~fictra.emergency.runner.ActionRunner.wake`) is called so the
runner executes it at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.clock import Clock
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.events import OnEvent
from fictra.emergency.policies import IncidentForAlert, trigger

__all__ = ["PolicyStage"]


class PolicyStage:
    """``incident_for_alert`` (optional, from the incidents domain through the integrator) links a
    triggered action to the alert's incident."""

    def __init__(
        self,
        *,
        config: EmergencyConfig,
        clock: Clock,
        wake: Callable[[], None] | None = None,
        on_event: OnEvent | None = None,
        incident_for_alert: IncidentForAlert | None = None,
    ) -> None:
        self.config, self.clock, self.wake = config, clock, wake
        self.on_event, self.incident_for_alert = on_event, incident_for_alert
        self.created: list[int] = []  # every action this stage proposed (the live view, tests)

    async def on_changes(self, changes: Sequence[AlertChange], session: AsyncSession) -> None:
        created = await trigger(
            session, changes, config=self.config, clock=self.clock, on_event=self.on_event,
            incident_for_alert=self.incident_for_alert,
        )  # fmt: skip
        if not created:
            return
        self.created.extend(created)
        wake = self.wake
        if wake is not None:

            def after_commit(_: Any) -> None:
                wake()

            event.listen(session.sync_session, "after_commit", after_commit, once=True)

    def __call__(self, changes: Sequence[AlertChange], session: AsyncSession) -> Awaitable[None]:
        return self.on_changes(changes, session)
