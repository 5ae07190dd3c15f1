"""Compatibility for ``fictra up`` until the integrator builds the stage list in ``assemble()``: chain
:class:`~fictra.emergency.flows.PolicyStage` after the pipeline's ``on_changes`` and expose the runner.
``platform`` is duck-typed; nothing of ``fictra.platform`` is imported. Delete once ``assemble()`` puts
``PolicyStage(config=..., clock=..., wake=runner.wake, on_event=..., incident_for_alert=...)`` in its
stage list and gives ``Platform`` a typed ``emergency`` field."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.emergency.flows import PolicyStage
from fictra.emergency.policies import IncidentForAlert
from fictra.emergency.runner import ActionRunner

Task = Callable[[asyncio.Event], Awaitable[None]]


def attach(
    platform: Any, *, runner: ActionRunner, incident_for_alert: IncidentForAlert | None = None
) -> Task:
    stage = PolicyStage(
        config=runner.config, clock=runner.clock, wake=runner.wake, on_event=runner.on_event,
        incident_for_alert=incident_for_alert,
    )  # fmt: skip
    previous = platform.pipeline.on_changes

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        if previous is not None:
            await previous(changes, session)
        await stage.on_changes(changes, session)

    platform.pipeline.on_changes = on_changes
    platform.emergency = runner  # read by the actions routes and pages
    return runner.run
