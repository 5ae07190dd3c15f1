"""The access-attempts monitor: brute force (P1) and logins from a new place (P3), from ``access_attempts``.

- **Brute force**: at least ``user_failures`` failed attempts for one user name, or ``ip_failures`` from
  one source IP, within ``window`` -> a P1 finding per user/IP when the condition starts, cleared when the
  window holds fewer (conditions left firing before a restart are taken over from the alert store).
- **New place**: a successful password login from an IP never seen before for that user (users with no
  earlier successful login are skipped: their first place is not news) -> a P3 finding per user and IP.

Once an hour it also applies the retention of ``access_attempts``
(:func:`fictra.auth.account.prune_attempts`).

It is a :class:`~fictra.monitors.base.PolledMonitor`: the platform calls :meth:`poll` on ``interval``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.auth.account import prune_attempts
from fictra.auth.models import AccessAttempt
from fictra.clock import Clock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions

MAX_LISTED = 10
PRUNE_EVERY = 3600.0  # seconds between retention passes over access_attempts


class AccessAttemptsMonitor:
    def __init__(
        self,
        *,
        clock: Clock,
        network: str = "devnet",
        name: str = "access-attempts",
        interval: timedelta = timedelta(seconds=15),
        window: timedelta = timedelta(minutes=15),
        user_failures: int = 10,
        ip_failures: int = 20,
    ) -> None:
        self.name = name
        self.interval = interval
        self.network = network
        self._clock = clock
        self._window = window
        self._thresholds = {"user": user_failures, "ip": ip_failures}
        self._conditions = Conditions(monitor=name, network=network)  # brute-force conditions raised
        self._last_id: int | None = None  # successful logins up to this id were judged for new places
        self._pruned_at: float | None = None  # clock.monotonic() of the last retention pass

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        await self._conditions.resume(session)  # after a restart: take over what was left firing
        await self._brute_force(session, out)
        await self._new_places(session, out)
        if self._pruned_at is None or self._clock.monotonic() - self._pruned_at >= PRUNE_EVERY:
            await prune_attempts(session, clock=self._clock)
            self._pruned_at = self._clock.monotonic()
        return out

    async def _brute_force(self, session: AsyncSession, out: MonitorOutput) -> None:
        since = self._clock.now() - self._window
        rows = (
            await session.execute(
                select(
                    AccessAttempt.username, AccessAttempt.source_ip, AccessAttempt.reason, AccessAttempt.at
                ).where(AccessAttempt.success.is_(False), AccessAttempt.at >= since)
            )
        ).all()
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for row in rows:
            groups[("user", row.username)].append(row)
            if row.source_ip:
                groups[("ip", row.source_ip)].append(row)
        holding: set[tuple[str, str]] = set()
        for (by, subject), attempts in sorted(groups.items()):
            if len(attempts) >= self._thresholds[by]:
                holding.add((by, subject))
                labels = {"condition": "brute_force", "by": by, "subject": subject}
                self._conditions.hold_lazy(labels, partial(self._brute_finding, by, subject, attempts), out)
        for labels in self._conditions.matching(condition="brute_force"):
            if (labels.get("by", ""), labels.get("subject", "")) not in holding:
                self._conditions.release(labels, out)

    def _brute_finding(self, by: str, subject: str, attempts: list[Any]) -> Finding:
        others = sorted(
            {a.source_ip or "?" for a in attempts} if by == "user" else {a.username for a in attempts}
        )
        reasons: dict[str, int] = defaultdict(int)
        for a in attempts:
            reasons[a.reason] += 1
        what = f"user '{subject}'" if by == "user" else f"source IP {subject}"
        minutes = int(self._window.total_seconds() // 60)
        return Finding(
            monitor=self.name,
            severity=Severity.P1,
            summary=f"Brute force: {len(attempts)} failed access attempts for {what} within {minutes} min",
            labels={"condition": "brute_force", "by": by, "subject": subject},
            network=self.network,
            evidence={
                "failures": len(attempts),
                "threshold": self._thresholds[by],
                "window_seconds": int(self._window.total_seconds()),
                "first_at": min(a.at for a in attempts).isoformat(),
                "last_at": max(a.at for a in attempts).isoformat(),
                "reasons": dict(sorted(reasons.items())),
                ("source_ips" if by == "user" else "usernames"): others[:MAX_LISTED],
            },
        )

    async def _new_places(self, session: AsyncSession, out: MonitorOutput) -> None:
        ok = and_(AccessAttempt.success.is_(True), AccessAttempt.method == "password")
        if self._last_id is None:  # first poll: judge the logins of the last window
            since = self._clock.now() - self._window
            first = await session.execute(
                select(func.min(AccessAttempt.id)).where(ok, AccessAttempt.at >= since)
            )
            start = first.scalar_one_or_none()
            if start is None:
                latest = await session.execute(select(func.max(AccessAttempt.id)))
                self._last_id = latest.scalar_one_or_none() or 0
                return
            self._last_id = start - 1
        logins = (
            (
                await session.execute(
                    select(AccessAttempt)
                    .where(ok, AccessAttempt.id > self._last_id)
                    .order_by(AccessAttempt.id)
                )
            )
            .scalars()
            .all()
        )
        for login in logins:
            self._last_id = login.id
            if not login.source_ip:
                continue
            earlier = (
                (
                    await session.execute(
                        select(AccessAttempt.source_ip)
                        .where(ok, AccessAttempt.username == login.username, AccessAttempt.id < login.id)
                        .distinct()
                    )
                )
                .scalars()
                .all()
            )
            known = sorted({ip for ip in earlier if ip})
            if not earlier or login.source_ip in known:
                continue
            out.findings.append(
                Finding(
                    monitor=self.name,
                    severity=Severity.P3,
                    summary=f"Login by '{login.username}' from a new place: {login.source_ip}",
                    labels={"condition": "new_place", "user": login.username, "source_ip": login.source_ip},
                    network=self.network,
                    evidence={
                        "at": login.at.isoformat(),
                        "source_ip": login.source_ip,
                        "user_agent": login.user_agent,
                        "known_ips": known[:MAX_LISTED],
                        "attempt_id": login.id,
                    },
                )
            )
