"""What the incidents domain needs to know about emergency actions, as protocols it defines.

Incidents never imports the emergency domain (nor the reverse). The caller that assembles the
platform passes in an :class:`ActionLedger` — an object over the action tables whose methods return
values *shaped* like the protocols below (structural typing: the emergency domain's own views satisfy
them without importing anything from here). Used by:

* the timeline (:func:`fictra.incidents.timeline.timeline`): the linked actions' events;
* the report (:mod:`fictra.incidents.report`): the linked actions with approvals and transactions;
* auto-declare (:mod:`fictra.incidents.flows`): is a new alert the expected effect of one of the
  platform's own emergency actions (:meth:`ActionLedger.caused_by`)?
* the action-event callback (:meth:`fictra.incidents.flows.IncidentsContext.on_action_event`): is the
  verified action a containment action, and of which incident?

:data:`NO_ACTIONS` is the ledger of a platform without emergency actions (nothing linked, nothing caused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "NO_ACTIONS",
    "ActionBrief",
    "ActionEventLike",
    "ActionLedger",
    "ActionRecord",
    "ActionTimelineItem",
    "ApprovalRecord",
    "NoActions",
    "TxRecord",
]


class ActionTimelineItem(Protocol):
    """One event of a linked action on the incident timeline (kind ``action.<event>``)."""

    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def ref(self) -> str | None: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


class ApprovalRecord(Protocol):
    @property
    def approver(self) -> str: ...


class TxRecord(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def tx_hash(self) -> str | None: ...
    @property
    def block_number(self) -> int | None: ...
    @property
    def gas_used(self) -> int | None: ...


class ActionRecord(Protocol):
    """A linked action as the report shows it: what, status, who proposed and approved, its
    transactions, and alert-to-confirmed time for containment actions."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def proposed_by(self) -> str: ...
    @property
    def approvals(self) -> Sequence[ApprovalRecord]: ...
    @property
    def txs(self) -> Sequence[TxRecord]: ...
    @property
    def alert_to_confirmed_seconds(self) -> float | None: ...


class ActionBrief(Protocol):
    """An action as the action-event callback needs it."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def incident_id(self) -> int | None: ...
    @property
    def containment(self) -> bool: ...


class ActionEventLike(Protocol):
    """An event of the emergency runner (proposed, approved, ..., verified, failed)."""

    @property
    def action_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...


class ActionLedger(Protocol):
    """Read access to the emergency actions, in the caller's session."""

    async def timeline(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionTimelineItem]:
        """Every event of the actions linked to the incident, oldest first."""
        ...

    async def actions(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionRecord]:
        """The actions linked to the incident, newest first."""
        ...

    async def brief(self, session: AsyncSession, *, action_id: int) -> ActionBrief | None:
        """One action; None when there is no such action."""
        ...

    async def caused_by(
        self, session: AsyncSession, *, tx_hashes: Sequence[str], condition: str | None, now: datetime
    ) -> tuple[int, int | None] | None:
        """(action id, its incident id) when an alert carrying ``tx_hashes`` and reporting
        ``condition`` (its ``condition`` label) is the expected effect of one of the platform's own
        actions: it carries an action's transaction hash, or it reports a condition an action causes
        (paused, trading halted) while such an action's transaction is on its way or landed within
        the last minutes. Else None."""
        ...


class NoActions:
    """The ledger of a platform without emergency actions."""

    async def timeline(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionTimelineItem]:
        return []

    async def actions(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionRecord]:
        return []

    async def brief(self, session: AsyncSession, *, action_id: int) -> ActionBrief | None:
        return None

    async def caused_by(
        self, session: AsyncSession, *, tx_hashes: Sequence[str], condition: str | None, now: datetime
    ) -> tuple[int, int | None] | None:
        return None


NO_ACTIONS: ActionLedger = NoActions()
