"""Plug emergency actions into an assembled platform: automatic-response policies on the alert store's
changes, and the action runner as a platform task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.emergency.policies import trigger
from fictra.emergency.runner import ActionRunner

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

Task = Callable[[asyncio.Event], Awaitable[None]]


def attach(platform: Platform, *, runner: ActionRunner) -> Task:
    """Chain the policy trigger after any existing ``on_changes`` hook (an enabled policy's matching
    alert proposes a pre-approved action in the same transaction; the runner is woken once that
    transaction commits) and return the runner's task. The runner is also ``platform.emergency``."""
    previous = platform.pipeline.on_changes

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        if previous is not None:
            await previous(changes, session)
        created = await trigger(
            session, changes, config=runner.config, clock=platform.clock, on_event=runner.on_event
        )
        if created:

            def wake(_: Any) -> None:
                runner.wake()

            event.listen(session.sync_session, "after_commit", wake, once=True)

    platform.pipeline.on_changes = on_changes
    setattr(platform, "emergency", runner)  # noqa: B010 - read by fictra.emergency.views
    return runner.run
