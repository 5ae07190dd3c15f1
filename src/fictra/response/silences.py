"""Silences: matchers with a start and an end, created from the API, the CLI (and maintenance windows).

A silence mutes every alert whose labels match all its matchers while ``starts_at <= now < ends_at``.
Expiring a silence sets its end to now. Muted alerts are still stored; only notification and
escalation hold back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.audit.service import record as audit
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.response.matchers import Matcher, matches_all, parse_matcher
from fictra.response.models import Silence


class SilenceView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime
    source: str
    state: str = "active"  # pending | active | expired


def view(row: Silence, now: datetime) -> SilenceView:
    state = "pending" if now < row.starts_at else ("expired" if now >= row.ends_at else "active")
    return SilenceView.model_validate(row).model_copy(update={"state": state})


def parse_matchers(texts: Sequence[str]) -> list[Matcher]:
    if not texts:
        raise UsageError("A silence needs at least one matcher, e.g. 'monitor=\"node-health\"'.")
    out = []
    for text in texts:
        try:
            out.append(parse_matcher(text))
        except ValueError as exc:
            raise UsageError(f"Silence matcher: {exc}.") from None
    if all(m.op in ("=~", "!~", "!=") and m.value in ("", ".*") for m in out):
        raise UsageError("Silence matchers would match every alert; name at least one label value.")
    return out


async def create_silence(
    session: AsyncSession,
    *,
    matchers: Sequence[str],
    starts_at: datetime | None,
    ends_at: datetime,
    comment: str,
    actor: object,
    clock: Clock,
    source: str = "manual",
) -> SilenceView:
    parsed = parse_matchers(matchers)
    now = clock.now()
    start = starts_at or now
    if ends_at <= start:
        raise UsageError(f"Silence end {ends_at.isoformat()} must be after its start {start.isoformat()}.")
    if ends_at <= now:
        raise UsageError(f"Silence end {ends_at.isoformat()} is in the past.")
    if not comment.strip():
        raise UsageError("A silence needs a comment saying why.")
    row = Silence(
        matchers=[str(m) for m in parsed],
        starts_at=start,
        ends_at=ends_at,
        created_by=actor_name(actor),
        comment=comment,
        created_at=now,
        source=source,
    )
    session.add(row)
    await session.flush()
    result = view(row, now)
    await audit(
        session,
        actor=actor,
        action="silence.create",
        target=f"silence:{row.id}",
        after=result.model_dump(mode="json"),
        clock=clock,
    )
    return result


async def expire_silence(
    session: AsyncSession, *, silence_id: int, actor: object, clock: Clock
) -> SilenceView:
    row = await session.get(Silence, silence_id)
    if row is None:
        raise NotFoundError(f"No silence with id {silence_id}.")
    now = clock.now()
    if row.ends_at <= now:
        raise ConflictError(f"Silence {silence_id} already ended at {row.ends_at.isoformat()}.")
    before = view(row, now).model_dump(mode="json")
    row.ends_at = max(now, row.starts_at)
    await session.flush()
    result = view(row, now)
    await audit(
        session,
        actor=actor,
        action="silence.expire",
        target=f"silence:{silence_id}",
        before=before,
        after=result.model_dump(mode="json"),
        clock=clock,
    )
    return result


async def list_silences(
    session: AsyncSession, *, now: datetime, include_expired: bool = False, limit: int = 200
) -> list[SilenceView]:
    stmt = select(Silence).order_by(Silence.id.desc()).limit(limit)
    if not include_expired:
        stmt = stmt.where(Silence.ends_at > now)
    return [view(r, now) for r in (await session.execute(stmt)).scalars()]


class SilenceMuter:
    """A Muter over the silences active at one instant."""

    def __init__(self, silences: Sequence[tuple[int, list[Matcher]]]) -> None:
        self.silences = list(silences)

    @classmethod
    async def load(cls, session: AsyncSession, *, now: datetime) -> SilenceMuter:
        rows = await session.execute(
            select(Silence.id, Silence.matchers).where(Silence.ends_at > now, Silence.starts_at <= now)
        )
        return cls([(sid, [parse_matcher(m) for m in ms]) for sid, ms in rows])

    def mutes(self, labels: Mapping[str, str], *, alert_id: int) -> str | None:
        for sid, matchers in self.silences:
            if matches_all(matchers, labels):
                return f"silence {sid}"
        return None
