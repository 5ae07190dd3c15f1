"""Aggregation groups with Alertmanager's timers.

An alert routed to ``opts`` joins the group ``(route, group labels)``. A new group is flushed
``group_wait`` after it was created; afterwards it is flushed every ``group_interval`` if something
changed (an alert joined, re-fired or resolved), and re-sent every ``repeat_interval`` while any alert
still fires. A group whose alerts are all resolved is flushed once more (the resolved notice) and
removed. As in Alertmanager, a resolved notice only names alerts a notification told as firing: an alert
that fired and resolved inside ``group_wait`` (or between two flushes) is never announced, and a group
that never notified sends no resolved notice at all.

The dispatcher itself is pure (times are passed in). Unlike Alertmanager's, its state is not kept in
memory between transactions: :mod:`fictra.response.group_store` loads the groups from the
``response_groups`` table at the start of every transaction that touches them and writes them back
before it commits, so a crash or restart between batches changes no notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fictra.response.routing import RouteOpts


@dataclass
class GroupedAlert:
    alert_id: int
    labels: dict[str, str]
    firing: bool
    summary: str
    severity: str
    deadline: datetime | None = None  # acknowledge by
    evidence: dict[str, Any] = field(default_factory=dict)  # the latest occurrence's (annotations inbound)


@dataclass
class AggrGroup:
    opts: RouteOpts
    key: tuple[tuple[str, str], ...]
    created: datetime
    alerts: dict[int, GroupedAlert] = field(default_factory=dict)
    next_flush: datetime | None = None
    last_flush: datetime | None = None
    changed: bool = True
    flushes: int = 0
    notified: set[int] = field(default_factory=set)  # alerts a sent notification told as firing

    @property
    def group_key(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in self.key)
        return f"{self.opts.route_id}:{{{labels}}}"


@dataclass(frozen=True)
class GroupNotification:
    """One flush of one group to its receiver."""

    receiver: str
    group_key: str
    flush: int
    firing: list[GroupedAlert]
    resolved: list[GroupedAlert]
    created: datetime | None = None  # when the group formed (with ``flush``, names this flush)


class Dispatcher:
    def __init__(self) -> None:
        self.groups: dict[tuple[str, tuple[tuple[str, str], ...]], AggrGroup] = {}
        self.stored: set[str] = set()  # ids of the group rows this dispatcher was loaded from

    def add(self, opts: RouteOpts, alert: GroupedAlert, *, now: datetime) -> AggrGroup | None:
        """Put an alert (or its new state) in its group. A resolved alert the group does not hold is
        ignored (nobody was told it fired: it was muted, or fired before a restart)."""
        key = (opts.route_id, opts.group_labels(alert.labels))
        group = self.groups.get(key)
        if not alert.firing and (group is None or alert.alert_id not in group.alerts):
            return None
        if group is None:
            group = AggrGroup(opts, key[1], now, next_flush=now + opts.group_wait)
            self.groups[key] = group
        previous = group.alerts.get(alert.alert_id)
        if previous is None or previous.firing != alert.firing or previous.severity != alert.severity:
            group.changed = True
        group.alerts[alert.alert_id] = alert
        return group

    def next_due(self) -> datetime | None:
        times = [g.next_flush for g in self.groups.values() if g.next_flush is not None]
        return min(times) if times else None

    def flush_due(self, *, now: datetime) -> list[GroupNotification]:
        out: list[GroupNotification] = []
        for key, group in list(self.groups.items()):
            if group.next_flush is None or group.next_flush > now:
                continue
            firing = [a for a in group.alerts.values() if a.firing]
            gone = [a for a in group.alerts.values() if not a.firing]
            resolved = [a for a in gone if a.alert_id in group.notified]  # nobody heard of the others
            interval_due = group.changed
            repeat_due = (
                group.last_flush is not None
                and bool(firing)
                and now - group.last_flush >= group.opts.repeat_interval
            )
            if interval_due or repeat_due or group.last_flush is None:
                if firing or resolved:
                    group.flushes += 1
                    out.append(
                        GroupNotification(
                            group.opts.receiver,
                            group.group_key,
                            group.flushes,
                            firing,
                            resolved,
                            created=group.created,
                        )
                    )
                    group.last_flush = now
                    group.notified |= {a.alert_id for a in firing}
                group.changed = False
                for alert in gone:
                    del group.alerts[alert.alert_id]
                    group.notified.discard(alert.alert_id)
            if not group.alerts:
                del self.groups[key]
                continue
            group.next_flush = now + group.opts.group_interval
        return out
