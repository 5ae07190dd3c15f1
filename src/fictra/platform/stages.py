"""What runs after the alert store, in order: one explicit list built in one function.

Every stage receives the alert store's changes of one batch (or one inbound request, or one polled
monitor's round) inside the transaction that wrote them, so a stage's rows (notifications, incidents,
pre-approved actions) commit with the alerts and the follower's checkpoint, or not at all.

    alert store ─► response (dedup → inhibit → silence → route → group → escalate → notify)
                ─► incidents (auto-declare new P0 conditions; evidence jobs, initial update)
                ─► emergency (enabled automatic-response policies propose a pre-approved action)

A new domain that reacts to alerts adds one entry to :func:`build_stages`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.emergency.flows import PolicyStage
from fictra.incidents.flows import IncidentsContext
from fictra.response.context import ResponseContext
from fictra.response.pipeline import ResponsePipeline

log = logging.getLogger(__name__)

StageFn = Callable[[list[AlertChange], AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class Stage:
    """One named step after the alert store."""

    name: str
    run: StageFn


def build_stages(
    *,
    response: ResponseContext | None,
    incidents: IncidentsContext | None,
    policies: PolicyStage | None,
) -> list[Stage]:
    """The order of everything after the alert store, in one place (absent domains are skipped)."""
    stages: list[Stage] = []
    if response is not None:
        stages.append(Stage("response", ResponsePipeline(response).on_changes))
    if incidents is not None:
        stages.append(Stage("incidents.auto-declare", incidents.on_changes))
    if policies is not None:
        stages.append(Stage("emergency.policies", policies.on_changes))
    return stages


def chain(stages: Sequence[Stage]) -> StageFn | None:
    """One ``on_changes`` callable for the alert pipeline that runs ``stages`` in order."""
    if not stages:
        return None
    ordered = tuple(stages)

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        for stage in ordered:
            await stage.run(changes, session)

    return on_changes
