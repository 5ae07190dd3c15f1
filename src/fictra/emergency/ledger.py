"""The emergency actions as another domain reads them, in the caller's session: an incident's action
events and actions, one action in brief, and "is this alert the effect of one of our own actions?".

The methods match :class:`fictra.incidents.linked_actions.ActionLedger` structurally (nothing is imported
either way); the integrator passes an :class:`ActionsLedger` to the incidents domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.emergency.definitions import DEFINITIONS
from fictra.emergency.models import ActionTx, EmergencyAction
from fictra.emergency.queries import events_for_incident, list_actions
from fictra.emergency.types import ActionView, TimelineItem

__all__ = ["EFFECT_WINDOW", "ActionBrief", "ActionsLedger"]

EFFECT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class ActionBrief:
    id: int
    title: str
    incident_id: int | None
    containment: bool


class ActionsLedger:
    async def timeline(self, session: AsyncSession, *, incident_id: int) -> Sequence[TimelineItem]:
        return await events_for_incident(session, incident_id)

    async def actions(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionView]:
        return await list_actions(session, incident_id=incident_id, limit=1000)

    async def brief(self, session: AsyncSession, *, action_id: int) -> ActionBrief | None:
        action = await session.get(EmergencyAction, action_id)
        if action is None:
            return None
        defn = DEFINITIONS.get(action.kind)
        title = defn.title if defn is not None else action.kind
        return ActionBrief(action.id, title, action.incident_id, bool(defn and defn.containment))

    async def caused_by(
        self, session: AsyncSession, *, tx_hashes: Sequence[str], condition: str | None, now: datetime
    ) -> tuple[int, int | None] | None:
        """(action id, its incident id) when the alert carries one of our transactions' hashes, or
        reports a condition a kind causes (:attr:`Definition.causes`) while such an action's
        transaction is on its way or landed within :data:`EFFECT_WINDOW`."""
        base = select(EmergencyAction.id, EmergencyAction.incident_id).join(
            ActionTx, ActionTx.action_id == EmergencyAction.id
        )
        hashes = [h.lower() for h in tx_hashes if h]
        if hashes:
            stmt = base.where(func.lower(ActionTx.tx_hash).in_(hashes), ActionTx.status != "failed").limit(1)
            row = (await session.execute(stmt)).first()
            if row is not None:
                return int(row[0]), row[1]
        kinds = [name for name, d in DEFINITIONS.items() if condition and condition in d.causes]
        if not kinds:
            return None
        stmt = (
            base.where(
                EmergencyAction.kind.in_(kinds),
                ActionTx.tx_hash.is_not(None),
                ActionTx.status != "failed",
                or_(  # signed, being sent right now, or sent within the window
                    and_(ActionTx.submitted_at.is_(None), ActionTx.status == "signed"),
                    ActionTx.submitted_at >= now - EFFECT_WINDOW,
                ),
            )
            .order_by(ActionTx.id.desc())
            .limit(1)
        )
        row = (await session.execute(stmt)).first()
        return (int(row[0]), row[1]) if row is not None else None
