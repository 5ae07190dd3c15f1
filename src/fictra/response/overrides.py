"""On-call overrides: made by hand, or imported from an iCalendar file (each event a shift)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record as audit
from fictra.auth.actor import Actor
from fictra.clock import Clock
from fictra.errors import NotFoundError, UsageError
from fictra.response.loader import ResponseConfig
from fictra.response.models import OncallOverride
from fictra.response.oncall import ical_shifts


class OverrideView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    schedule: str
    person: str
    starts_at: datetime
    ends_at: datetime
    source: str
    created_by: str


def _check_schedule(config: ResponseConfig, schedule: str) -> None:
    names = [s.name for s in config.oncall.schedules]
    if schedule not in names:
        raise NotFoundError(
            f"No on-call schedule '{schedule}' (oncall.yaml has: {', '.join(names) or 'none'})."
        )


async def create_override(
    session: AsyncSession,
    *,
    config: ResponseConfig,
    schedule: str,
    person: str,
    starts_at: datetime,
    ends_at: datetime,
    actor: Actor,
    clock: Clock,
) -> OverrideView:
    _check_schedule(config, schedule)
    if person not in config.oncall.people:
        raise UsageError(f"Person '{person}' is not in oncall.yaml people; add them there first.")
    if ends_at <= starts_at:
        raise UsageError(
            f"Override end {ends_at.isoformat()} must be after its start {starts_at.isoformat()}."
        )
    if ends_at <= clock.now():
        raise UsageError(f"Override end {ends_at.isoformat()} is in the past.")
    row = OncallOverride(
        schedule=schedule,
        person=person,
        starts_at=starts_at,
        ends_at=ends_at,
        source="manual",
        created_by=actor.username,
        details={},
    )
    session.add(row)
    await session.flush()
    view = OverrideView.model_validate(row)
    await audit(
        session,
        actor=actor,
        action="oncall.override",
        target=f"oncall:{schedule}",
        after=view.model_dump(mode="json"),
        clock=clock,
    )
    return view


async def import_ical(
    session: AsyncSession,
    *,
    config: ResponseConfig,
    schedule: str,
    data: bytes,
    actor: Actor,
    clock: Clock,
    horizon: timedelta = timedelta(days=90),
) -> list[OverrideView]:
    """Replace the schedule's future iCalendar shifts with those of ``data`` (next ``horizon``)."""
    _check_schedule(config, schedule)
    now = clock.now()
    try:
        spans = ical_shifts(data, schedule=schedule, now=now, horizon=horizon)
    except ValueError as exc:
        raise UsageError(f"iCalendar import for schedule '{schedule}': {exc}.") from None
    await session.execute(
        delete(OncallOverride).where(
            OncallOverride.schedule == schedule, OncallOverride.source == "ical", OncallOverride.ends_at > now
        )
    )
    rows = [
        OncallOverride(
            schedule=schedule,
            person=s.person,
            starts_at=s.start,
            ends_at=s.end,
            source="ical",
            created_by=actor.username,
            details={"known_person": s.person in config.oncall.people},
        )
        for s in spans
    ]
    session.add_all(rows)
    await session.flush()
    views = [OverrideView.model_validate(r) for r in rows]
    await audit(
        session,
        actor=actor,
        action="oncall.import",
        target=f"oncall:{schedule}",
        after={"shifts": len(views), "people": sorted({v.person for v in views})},
        clock=clock,
    )
    return views


async def list_overrides(session: AsyncSession, *, schedule: str | None, now: datetime) -> list[OverrideView]:
    stmt = select(OncallOverride).where(OncallOverride.ends_at > now).order_by(OncallOverride.starts_at)
    if schedule is not None:
        stmt = stmt.where(OncallOverride.schedule == schedule)
    return [OverrideView.model_validate(r) for r in (await session.execute(stmt)).scalars()]
