"""The incident row and the input that reaches it: load, require open, validated text and choices.

Shared by the write modules (:mod:`service`, :mod:`outputs`, :mod:`roles`, :mod:`tasks`,
:mod:`communications`). Text typed by a person is stripped of control and bidi characters
(:func:`fictra.text.strip_controls`) before it is stored, so it cannot rewrite a terminal line or
reorder what a reader sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.incidents.models import Incident
from fictra.text import strip_controls

__all__ = [
    "CLOSED",
    "OPEN",
    "TEXT_MAX",
    "TITLE_MAX",
    "check_alerts",
    "check_choice",
    "check_user",
    "clean_text",
    "load_incident",
    "require_open",
]

OPEN, CLOSED = "open", "closed"
TEXT_MAX = 20_000
TITLE_MAX = 300


def clean_text(value: str | None, *, what: str, limit: int = TEXT_MAX) -> str:
    """Stripped text for the record, without control or bidi characters; UsageError naming ``what``
    when empty, too long or with NUL."""
    raw = value or ""
    if "\x00" in raw:
        raise UsageError(f"The {what} contains a NUL character; remove it.")
    text = strip_controls(raw).strip()
    if not text:
        raise UsageError(f"The {what} is empty; write it out (it goes on the incident's record).")
    if len(text) > limit:
        raise UsageError(f"The {what} has {len(text)} characters; at most {limit} are allowed.")
    return text


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    """``value`` when it is one of ``choices``; else UsageError listing them."""
    if value not in choices:
        raise UsageError(f"{what} '{value}' is not one of: {', '.join(choices)}.")
    return value


async def load_incident(session: AsyncSession, incident_id: int) -> Incident:
    """The incident row, fresh from the database; NotFoundError saying how to list incidents."""
    incident = await session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFoundError(
            f"No incident with id {incident_id}. List incidents with `fictra incidents list` "
            "or GET /api/v1/incidents."
        )
    return incident


def require_open(incident: Incident, verb: str) -> None:
    """ConflictError (naming when it closed) unless the incident is open; ``verb`` completes the sentence."""
    if incident.status != OPEN:
        when = incident.closed_at.isoformat() if incident.closed_at else "?"
        raise ConflictError(
            f"Incident {incident.id} was closed at {when}; a closed incident cannot be {verb}."
        )


async def check_alerts(session: AsyncSession, alert_ids: Iterable[int]) -> list[int]:
    """The distinct ids, sorted; NotFoundError naming every id that is no alert."""
    wanted = sorted(set(alert_ids))
    if not wanted:
        return []
    found = set((await session.execute(select(Alert.id).where(Alert.id.in_(wanted)))).scalars())
    missing = [str(a) for a in wanted if a not in found]
    if missing:
        raise NotFoundError(f"No alert with id {', '.join(missing)}. List alerts with `fictra alerts list`.")
    return wanted


async def check_user(session: AsyncSession, username: str) -> str:
    """The name of an existing, enabled user (roles and task owners are users)."""
    from fictra.auth.models import User

    name = username.strip()
    user = (await session.execute(select(User).where(User.username == name))).scalar_one_or_none()
    if user is None:
        raise NotFoundError(f"No user '{name}'. Add them with `fictra users add {name} --role ...`.")
    if user.disabled:
        raise ConflictError(f"User '{name}' is disabled; assign an active user.")
    return name
