"""Feedback from the notified stakeholders after implementation: a one-time link per stakeholder (the
change's ``notify`` list) to a short public form (rating 1-5 and a comment). Only the token's SHA-256 is
stored; a link works once and until it expires. The review and the change-request document show the
answers."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name, record
from fictra.changes.models import ChangeEvent, ChangeFeedback, ChangeRequest
from fictra.changes.records import event, load
from fictra.changes.service import ChangeRefused
from fictra.clock import Clock
from fictra.errors import NotFoundError, UsageError

__all__ = ["FEEDBACK_TTL", "feedback_of", "form_of", "request_feedback", "submit_feedback"]

FEEDBACK_TTL = timedelta(days=14)
REVIEWABLE = ("review", "failed", "rolled_back")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_feedback(
    session: AsyncSession, *, change_id: int, actor: object, clock: Clock, ttl: timedelta = FEEDBACK_TTL
) -> list[dict[str, str]]:
    """One new link per stakeholder of ``notify`` (an earlier unanswered link stays valid); returns
    ``[{"stakeholder", "token"}]`` — the tokens are shown once, never stored."""
    change = await load(session, change_id, lock=True)
    if change.state not in REVIEWABLE:
        raise ChangeRefused(
            f"Change {change_id} is {change.state}; feedback is asked after implementation "
            f"({', '.join(REVIEWABLE)})."
        )
    if not change.notify:
        raise UsageError(f"Change {change_id} notifies nobody (its 'notify' list is empty); nobody to ask.")
    now = clock.now()
    out = []
    for who in change.notify:
        token = secrets.token_urlsafe(24)
        session.add(
            ChangeFeedback(
                change_id=change.id, stakeholder=who, token_hash=_hash(token), requested_by=actor_name(actor),
                requested_at=now, expires_at=now + ttl,
            )
        )  # fmt: skip
        out.append({"stakeholder": who, "token": token})
    await event(
        session, change, kind="feedback_requested", actor=actor, clock=clock,
        text=f"{actor_name(actor)} asked {', '.join(change.notify)} for feedback (links valid {ttl})",
        details={"stakeholders": list(change.notify), "expires_at": (now + ttl).isoformat()},
    )  # fmt: skip
    return out


async def _by_token(session: AsyncSession, token: str, clock: Clock) -> tuple[ChangeFeedback, ChangeRequest]:
    row = (
        await session.execute(select(ChangeFeedback).where(ChangeFeedback.token_hash == _hash(token)))
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("This feedback link is not valid (mistyped, or not from FICTRA Ops).")
    if row.submitted_at is not None:
        raise ChangeRefused(f"This feedback link was used at {row.submitted_at.isoformat()}; thank you.")
    if row.expires_at <= clock.now():
        raise ChangeRefused(f"This feedback link expired at {row.expires_at.isoformat()}.")
    return row, await load(session, row.change_id)


async def form_of(session: AsyncSession, *, token: str, clock: Clock) -> dict[str, Any]:
    """What the public form shows: the change in a line, for whom, until when."""
    row, change = await _by_token(session, token, clock)
    return {
        "change_id": change.id, "title": change.title, "state": change.state, "stakeholder": row.stakeholder,
        "expires_at": row.expires_at,
    }  # fmt: skip


async def submit_feedback(
    session: AsyncSession, *, token: str, rating: int, comment: str, clock: Clock
) -> ChangeFeedback:
    """Record the answer (rating 1-5, comment up to 4000 characters) once."""
    if not 1 <= rating <= 5:
        raise UsageError(f"Rating {rating} is not between 1 and 5.")
    if len(comment) > 4000:
        raise UsageError(f"The comment has {len(comment)} characters; at most 4000.")
    row, change = await _by_token(session, token, clock)
    row.rating, row.comment, row.submitted_at = rating, comment.strip(), clock.now()
    who = f"stakeholder:{row.stakeholder}"
    session.add(
        ChangeEvent(
            change_id=change.id, at=clock.now(), actor=who, kind="feedback",
            text=f"{row.stakeholder} rated the change {rating}/5"
            + (f": {row.comment}" if row.comment else ""),
            details={"rating": rating},
        )
    )  # fmt: skip
    await record(
        session, actor=who, action="change.feedback", target=f"change:{change.id}",
        after={"stakeholder": row.stakeholder, "rating": rating}, clock=clock,
    )  # fmt: skip
    await session.flush()
    return row


async def feedback_of(session: AsyncSession, change_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(ChangeFeedback).where(ChangeFeedback.change_id == change_id).order_by(ChangeFeedback.id)
        )
    ).scalars()
    return [
        {
            "stakeholder": r.stakeholder, "requested_at": r.requested_at.isoformat(),
            "expires_at": r.expires_at.isoformat(), "rating": r.rating, "comment": r.comment,
            "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
        }
        for r in rows
    ]  # fmt: skip
