"""Regulatory filings on a calendar (compliance.yaml ``filings``) and regulators' feeds triaged into tasks.

Each filing is due ``due_days`` after the end of each period (monthly ``2027-01``, quarterly ``2027-Q1``,
annual ``2027``). :func:`calendar` lists the due dates around now; :func:`mark_filed` records a filing with
the submission reference (audited). :class:`FilingsMonitor` (a polled monitor, injected clock) raises each
period whose due date passed without a filing and clears it when filed. :class:`FeedsMonitor` reads each
feed (a local RSS/Atom file, parsed by feedparser; never fetched over the network here), files every new
item as a triage task (audited) and holds one P3 finding while tasks wait; :func:`triage` closes a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.audit.service import record
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig, FilingConfig
from fictra.compliance.filing_models import FeedItem, Filing
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions

__all__ = ["Due", "FeedsMonitor", "FilingsMonitor", "calendar", "mark_filed", "read_feeds", "triage"]

FILINGS, FEEDS = "compliance.filings", "compliance.feeds"
_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


@dataclass(frozen=True)
class Due:
    filing: FilingConfig
    period: str
    ends: datetime
    due_at: datetime


def _add_months(d: datetime, months: int) -> datetime:
    total = d.year * 12 + d.month - 1 + months
    return d.replace(year=total // 12, month=total % 12 + 1, day=1)


def _label(start: datetime, period: str) -> str:
    if period == "monthly":
        return f"{start:%Y-%m}"
    if period == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}"


def _periods(filing: FilingConfig, around: datetime, back: int, ahead: int) -> list[Due]:
    step = _MONTHS[filing.period]
    first_month = ((around.month - 1) // step) * step + 1
    start = datetime(around.year, first_month, 1, tzinfo=UTC)
    out = []
    for k in range(-back, ahead + 1):
        s = _add_months(start, k * step)
        ends = _add_months(s, step)
        out.append(Due(filing, _label(s, filing.period), ends, ends + timedelta(days=filing.due_days)))
    return out


def calendar(config: ComplianceConfig, *, now: datetime, back: int = 2, ahead: int = 2) -> list[Due]:
    """Due dates of every filing from ``back`` periods before the current one to ``ahead`` after."""
    return sorted(
        (d for f in config.filings for d in _periods(f, now, back, ahead)),
        key=lambda d: (d.due_at, d.filing.name),
    )


async def filed(session: AsyncSession) -> dict[tuple[str, str], Filing]:
    return {(f.name, f.period_label): f for f in (await session.scalars(select(Filing))).all()}


async def mark_filed(
    session: AsyncSession,
    *,
    config: ComplianceConfig,
    name: str,
    period: str,
    reference: str,
    actor: object,
    clock: Clock,
) -> Filing:
    """Record that ``name`` for ``period`` was filed with ``reference``."""
    due = next(
        (
            d
            for d in calendar(config, now=clock.now(), back=8, ahead=1)
            if (d.filing.name, d.period) == (name, period)
        ),
        None,
    )
    if due is None:
        names = ", ".join(f.name for f in config.filings) or "none configured"
        raise NotFoundError(f"No filing '{name}' for period '{period}' on the calendar (filings: {names}).")
    if not reference.strip():
        raise UsageError("Marking a filing filed needs the submission reference.")
    if (name, period) in await filed(session):
        raise ConflictError(f"{name} {period} is filed already.")
    who = str(getattr(actor, "username", actor))
    row = Filing(
        name=name,
        period_label=period,
        due_at=due.due_at,
        state="filed",
        reference=reference.strip()[:500],
        filed_by=who,
        filed_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    late = clock.now() > due.due_at
    await record(
        session,
        actor=actor,
        action="compliance.filing_filed",
        target=f"filing:{name}:{period}",
        after={
            "authority": due.filing.authority,
            "reference": row.reference,
            "due_at": due.due_at.isoformat(),
            "late": late,
        },
        clock=clock,
    )
    return row


class FilingsMonitor:
    """A polled monitor: a due date passed without a filing → a finding until it is filed."""

    name = FILINGS

    def __init__(self, *, config: ComplianceConfig, clock: Clock, network: str) -> None:
        self.config, self.clock, self.network = config, clock, network
        self.interval = timedelta(hours=1)
        self.conditions = Conditions(monitor=FILINGS, network=network)

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        await self.conditions.resume(session)
        now = self.clock.now()
        done = await filed(session)
        for due in calendar(self.config, now=now, back=3, ahead=0):
            since = due.filing.since
            if since is not None and due.period < _label(
                datetime(since.year, since.month, 1, tzinfo=UTC), due.filing.period
            ):
                continue  # before the first period this platform files
            labels = {"filing": due.filing.name, "period": due.period}
            if due.due_at <= now and (due.filing.name, due.period) not in done:
                self.conditions.hold(
                    Finding(
                        monitor=FILINGS,
                        severity=Severity(due.filing.severity),
                        labels=labels,
                        network=self.network,
                        summary=f"Filing {due.filing.name} ({due.filing.authority}) for {due.period} "
                        f"missed its due date {due.due_at:%Y-%m-%d}",
                        evidence={
                            "authority": due.filing.authority,
                            "due_at": due.due_at.isoformat(),
                            "template": due.filing.template,
                        },
                    ),
                    out,
                )
            else:
                self.conditions.release(labels, out)
        return out


async def read_feeds(session: AsyncSession, *, config: ComplianceConfig, base_dir: Path, clock: Clock) -> int:
    """New items of every feed filed as triage tasks; returns how many."""
    added = 0
    for feed in config.feeds:
        path = Path(feed.source)
        path = path if path.is_absolute() else base_dir / path
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(
                f"compliance.yaml:feeds.{feed.name}: cannot read '{path}': {exc.strerror}."
            ) from None
        parsed = feedparser.parse(data)
        if parsed.get("bozo") and not parsed.get("entries"):
            raise UsageError(f"compliance.yaml:feeds.{feed.name}: '{path}' is not an RSS or Atom feed.")
        known = set((await session.scalars(select(FeedItem.guid).where(FeedItem.feed == feed.name))).all())
        for entry in parsed.get("entries", []):
            guid = str(entry.get("id") or entry.get("link") or entry.get("title") or "")[:500]
            if not guid or guid in known:
                continue
            known.add(guid)
            item = FeedItem(
                feed=feed.name,
                guid=guid,
                title=str(entry.get("title", ""))[:2000],
                link=str(entry.get("link", "")),
                published=str(entry.get("published", entry.get("updated", "")))[:64],
                state="new",
                created_at=clock.now(),
            )
            session.add(item)
            await session.flush()
            added += 1
            await record(
                session,
                actor="system",
                action="compliance.feed_item",
                target=f"feed-item:{item.id}",
                after={"feed": feed.name, "title": item.title[:300], "link": item.link[:500]},
                clock=clock,
            )
    return added


async def triage(session: AsyncSession, *, item_id: int, note: str, actor: object, clock: Clock) -> FeedItem:
    item = await session.get(FeedItem, item_id, with_for_update=True)
    if item is None:
        raise NotFoundError(f"No regulatory feed item {item_id}.")
    if item.state != "new":
        raise ConflictError(f"Feed item {item_id} is triaged already.")
    if len(note.strip()) < 3:
        raise UsageError("Triage needs a note (what it means for us, what to do).")
    item.state, item.note, item.triaged_by = (
        "triaged",
        note.strip()[:4000],
        str(getattr(actor, "username", actor)),
    )
    await record(
        session,
        actor=actor,
        action="compliance.feed_triage",
        target=f"feed-item:{item_id}",
        before={"state": "new"},
        after={"state": "triaged"},
        reason=item.note,
        clock=clock,
    )
    return item


class FeedsMonitor:
    """A polled monitor: reads the feeds, files new items, holds one P3 while tasks wait for triage."""

    name = FEEDS

    def __init__(self, *, config: ComplianceConfig, clock: Clock, network: str, base_dir: Path) -> None:
        self.config, self.clock, self.network, self.base_dir = config, clock, network, base_dir
        self.interval = config.feeds_every
        self.conditions = Conditions(monitor=FEEDS, network=network)

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        await self.conditions.resume(session)
        await read_feeds(session, config=self.config, base_dir=self.base_dir, clock=self.clock)
        waiting = (await session.scalars(select(FeedItem.id).where(FeedItem.state == "new"))).all()
        labels = {"condition": "triage"}
        if waiting:
            self.conditions.hold(
                Finding(
                    monitor=FEEDS,
                    severity=Severity.P3,
                    labels=labels,
                    network=self.network,
                    summary=f"{len(waiting)} regulatory feed item(s) to triage",
                    evidence={"items": list(waiting)[:50]},
                ),
                out,
                always=True,
            )
        else:
            self.conditions.release(labels, out)
        return out
