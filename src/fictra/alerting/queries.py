"""The alert store's read path: list with filters, show one alert with its timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Severity
from fictra.alerting.models import Alert, AlertEvent, AlertOccurrence, AlertStatus, Confirmation
from fictra.alerting.schemas import AlertDetail, AlertEventView, AlertView, OccurrenceView
from fictra.errors import NotFoundError, UsageError

OCCURRENCES_SHOWN = 50
_VIEW_COLUMNS = tuple(getattr(Alert, name) for name in AlertView.model_fields)


def _check(value: str, allowed: type[AlertStatus] | type[Confirmation] | type[Severity], what: str) -> str:
    choices = [m.value for m in allowed]
    if value not in choices:
        raise UsageError(f"{what} '{value}' is not one of: {', '.join(choices)}.")
    return value


async def list_alerts(
    session: AsyncSession,
    *,
    status: str | None = None,
    severity: str | Sequence[str] | None = None,
    confirmation: str | None = None,
    labels: Mapping[str, str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    network: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AlertView]:
    """Alerts, most recently seen first. ``status`` is firing/resolved, ``confirmation``
    provisional/confirmed/retracted; ``labels`` must all match; ``since``/``until`` bound last-seen time."""
    if limit < 1:
        raise UsageError(f"limit {limit} must be at least 1.")
    # the view's columns only (no ORM objects, no history): the list is the console's hottest query
    stmt = select(*_VIEW_COLUMNS)
    if status is not None:
        stmt = stmt.where(Alert.status == _check(status, AlertStatus, "Status"))
    if confirmation is not None:
        stmt = stmt.where(Alert.confirmation == _check(confirmation, Confirmation, "Confirmation"))
    if severity is not None:
        wanted = [severity] if isinstance(severity, str) else list(severity)
        stmt = stmt.where(Alert.severity.in_([_check(s.upper(), Severity, "Severity") for s in wanted]))
    for key, value in (labels or {}).items():
        stmt = stmt.where(Alert.labels[key].as_string() == value)
    if since is not None:
        stmt = stmt.where(Alert.last_seen >= since)
    if until is not None:
        stmt = stmt.where(Alert.last_seen < until)
    if network is not None:
        stmt = stmt.where(Alert.network == network)
    stmt = stmt.order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(limit).offset(max(offset, 0))
    rows = (await session.execute(stmt)).mappings().all()
    return [AlertView.model_validate(dict(r)) for r in rows]


async def get_alert(session: AsyncSession, id_or_fingerprint_prefix: str) -> AlertDetail:
    """One alert by numeric id or by a (unique) fingerprint prefix of at least 4 hex characters (an
    all-digit reference is tried as an id first, then as a prefix)."""
    ref = id_or_fingerprint_prefix.strip().lower()
    alert: Alert | None = None
    if ref.isdigit() and len(ref) < 19:
        alert = await session.get(Alert, int(ref), populate_existing=True)
    if alert is None and not (ref.isdigit() and len(ref) < 4):
        if len(ref) < 4 or any(c not in "0123456789abcdef" for c in ref):
            raise UsageError(
                f"Alert reference '{id_or_fingerprint_prefix}' is neither an id nor a fingerprint prefix "
                "(at least 4 hex characters)."
            )
        stmt = (
            select(Alert)
            .where(Alert.fingerprint.startswith(ref))
            .limit(2)
            .execution_options(populate_existing=True)
        )
        found = (await session.execute(stmt)).scalars().all()
        if len(found) > 1:
            raise UsageError(
                f"Fingerprint prefix '{ref}' matches several alerts; give more characters or the id."
            )
        alert = found[0] if found else None
    if alert is None:
        raise NotFoundError(f"No alert with id or fingerprint prefix '{id_or_fingerprint_prefix}'.")
    events = (
        (
            await session.execute(
                select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
            )
        )
        .scalars()
        .all()
    )
    view = AlertView.model_validate(alert)
    return AlertDetail(
        **view.model_dump(),
        history=list(alert.history or []),
        events=[AlertEventView.model_validate(e) for e in events],
        occurrences=await list_occurrences(session, alert.id, limit=OCCURRENCES_SHOWN),
    )


async def list_occurrences(
    session: AsyncSession, alert_id: int, *, limit: int | None = None
) -> list[OccurrenceView]:
    """The occurrences of one alert, oldest first (retracted ones included, marked); with ``limit``, the
    most recent ``limit`` of them."""
    stmt = (
        select(AlertOccurrence)
        .where(AlertOccurrence.alert_id == alert_id)
        .order_by(AlertOccurrence.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list((await session.execute(stmt)).scalars())
    return [OccurrenceView.model_validate(o) for o in reversed(rows)]
