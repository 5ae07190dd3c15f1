"""What the operations domains are doing, in a few numbers for the live view and the one-line log:
open incidents, actions in flight, today's procedures, open tickets, the scheduler's failures.

Only the domains the platform was assembled with are asked; each line is one query (cheap enough for
the view's refresh every few seconds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from fictra.alerting.models import Alert, AlertStatus
from fictra.compliance.queries import counts as compliance_counts
from fictra.emergency.models import EmergencyAction
from fictra.emergency.types import ACTIVE_STATUSES
from fictra.incidents.queries import count_open
from fictra.jobs.models import JobRun
from fictra.maintenance.holding import open_windows
from fictra.monitors.baseline_store import load_baselines
from fictra.platform.changes import changes_line
from fictra.procedures.queries import today
from fictra.proposals.queries import open_counts
from fictra.reserve.queries import latest_proof, live_text
from fictra.support.models import Ticket

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform


@dataclass
class OperationsSummary:
    """(label, value, attention) rows; ``attention`` marks what a person should look at."""

    rows: list[tuple[str, str, bool]] = field(default_factory=list)

    def line(self) -> str:
        return " | ".join(f"{label} {value}" for label, value, _ in self.rows)


async def operations_summary(platform: Platform) -> OperationsSummary:
    out = OperationsSummary()
    now = platform.clock.now()
    async with platform.sessions() as session:
        if platform.incidents is not None:
            n = await count_open(session)
            out.rows.append(("incidents open", str(n), n > 0))
        if platform.emergency is not None:
            n = int(
                await session.scalar(
                    select(func.count())
                    .select_from(EmergencyAction)
                    .where(EmergencyAction.status.in_(ACTIVE_STATUSES))
                )
                or 0
            )
            out.rows.append(("actions in flight", str(n), n > 0))
        if platform.procedures is not None:
            items = await today(session, config=platform.procedures.config, now=now)
            states: dict[str, int] = {}
            for item in items:
                states[item.state] = states.get(item.state, 0) + 1
            bad = sum(states.get(s, 0) for s in ("overdue", "failed", "missed", "not_opened"))
            text = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none today"
            out.rows.append(("procedures today", text, bad > 0))
        if platform.support is not None:
            n = int(
                await session.scalar(
                    select(func.count())
                    .select_from(Ticket)
                    .where(Ticket.state.in_(("new", "open", "pending")))
                )
                or 0
            )
            out.rows.append(("tickets open", str(n), False))
        if platform.changes is not None:
            text, attention = await changes_line(session)
            out.rows.append(("changes", text, attention))
        if platform.maintenance is not None:
            active = await open_windows(session, now=now)
            out.rows.append(("maintenance windows open", str(len(active)), bool(active)))
        if platform.compliance is not None:
            c = await compliance_counts(session)
            text = (
                f"{c['address_hits']} address, {c['name_hits']} name hits open; {c['lists']} lists; "
                f"{c['kyc_not_approved']} KYC not approved"
            )
            out.rows.append(("compliance", text, c["address_hits"] + c["name_hits"] > 0))
        if platform.proposals is not None:
            c = await open_counts(session)
            text = f"{c['open']} ({c['unreferenced']} without a change, {c['unreviewed']} not signed off)"
            out.rows.append(("proposals open", text, c["unreferenced"] + c["unreviewed"] > 0))
        if platform.reserve is not None:
            text, attention = live_text(await latest_proof(session, network=platform.network))
            out.rows.append(("reserve", text, attention))
        if platform.config.tokens.sovereigns:
            differing = int(
                await session.scalar(
                    select(func.count())
                    .select_from(Alert)
                    .where(
                        Alert.monitor == platform.config.tokens.reconcile.monitor,
                        Alert.status == AlertStatus.FIRING.value,
                    )
                )
                or 0
            )
            text = f"{len(platform.config.tokens.sovereigns)} registered, {differing} differ from the chain"
            out.rows.append(("sovereigns", text, differing > 0))
        market = (await load_baselines(session, monitor=platform.config.economics.pool.monitor)).get("pool")
        if market and market.get("latest"):
            m = market["latest"]
            vol = m.get("volatility") or 0.0
            text = (
                f"{m['price']:.4f} CASH (TWAP {m['twap'] or m['price']:.4f}), EWMA vol {vol * 100:.2f}%, "
                f"1% depth {m['impact_1pct'] * 100:.2f}%"
            )
            out.rows.append(("PT market", text, abs(m["price"] - 1.0) >= 0.02))
        failed = int(
            await session.scalar(
                select(func.count())
                .select_from(JobRun)
                .where(JobRun.outcome == "failed", JobRun.started_at >= now - timedelta(hours=1))
            )
            or 0
        )
        out.rows.append(("jobs failed (1 h)", str(failed), failed > 0))
    return out
