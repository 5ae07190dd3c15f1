"""enqueue: one outbox row per idempotency key, in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import UsageError
from fictra.notify.message import Message
from fictra.notify.models import Notification, NotificationStatus
from fictra.notify.service import enqueue, list_notifications


def _msg(**kw: object) -> Message:
    return Message.model_validate(
        {"subject": "P0 reserve below floor", "severity": "P0", "alert_id": 7, **kw}
    )


async def test_enqueue_inserts_a_pending_row_and_dedups_by_key(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as s:
        first = await enqueue(
            s, receiver="ops", channel="email", message=_msg(), idempotency_key="k1", clock=clock
        )
        again = await enqueue(
            s, receiver="ops", channel="email", message=_msg(), idempotency_key="k1", clock=clock
        )
    assert isinstance(first, int)
    assert again is None
    async with sessions.begin() as s:
        later = await enqueue(
            s, receiver="ops", channel="email", message=_msg(), idempotency_key="k1", clock=clock
        )
        other = await enqueue(
            s, receiver="ops", channel="email", message=_msg(), idempotency_key="k2", clock=clock
        )
    assert later is None and isinstance(other, int) and other != first
    async with sessions() as s:
        rows = (await s.scalars(select(Notification).order_by(Notification.id))).all()
    assert [r.idempotency_key for r in rows] == ["k1", "k2"]
    row = rows[0]
    assert row.status == NotificationStatus.PENDING
    assert row.attempts == 0 and row.alert_id == 7
    assert row.next_attempt_at == clock.now() == row.created_at
    assert Message.model_validate(row.message) == _msg()


async def test_enqueue_rolls_back_with_the_callers_transaction(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as s:
            await enqueue(s, receiver="ops", channel="log", message=_msg(), idempotency_key="k", clock=clock)
            raise RuntimeError("caller failed")
    async with sessions() as s:
        assert list(await list_notifications(s)) == []
    async with sessions.begin() as s:  # the key is free again: nothing was committed
        assert await enqueue(
            s, receiver="ops", channel="log", message=_msg(), idempotency_key="k", clock=clock
        )


async def test_enqueue_not_before_delays_the_first_attempt(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    later = clock.now() + timedelta(minutes=5)
    async with sessions.begin() as s:
        nid = await enqueue(
            s,
            receiver="ops",
            channel="log",
            message=_msg(),
            idempotency_key="d",
            clock=clock,
            not_before=later,
        )
    async with sessions() as s:
        row = await s.get(Notification, nid)
    assert row is not None and row.next_attempt_at == later


@pytest.mark.parametrize(
    ("key", "receiver", "channel"),
    [("", "ops", "log"), ("x" * 256, "ops", "log"), ("k", "", "log"), ("k", "ops", "")],
)
async def test_enqueue_rejects_bad_keys_and_names(
    engine: AsyncEngine, clock: FakeClock, key: str, receiver: str, channel: str
) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as s:
        with pytest.raises(UsageError):
            await enqueue(
                s, receiver=receiver, channel=channel, message=_msg(), idempotency_key=key, clock=clock
            )


def test_message_validates_its_fields() -> None:
    with pytest.raises(ValidationError):
        Message.model_validate({"subject": ""})
    with pytest.raises(ValidationError):
        Message.model_validate({"subject": "x", "status": "exploded"})
    with pytest.raises(ValidationError):
        Message.model_validate({"subject": "x", "unknown": 1})
    assert Message(subject="x").status == "firing"


def test_subject_tags_severity_and_status_once() -> None:
    from fictra.notify.templates import Envelope, subject

    def env(**kw: object) -> Envelope:
        return Envelope(1, "k", "ops", "log", Message.model_validate({"severity": "P1", **kw}), 1, "http://c")

    assert subject(env(subject="Feed stale")) == "[P1 FIRING] Feed stale"
    assert subject(env(subject="[P1] Feed stale", status="resolved")) == "[P1 RESOLVED] Feed stale"
    assert subject(env(subject="[P1]")) == "[P1 FIRING] [P1]"
    assert env(subject="x", link="/alerts/3").link == "http://c/alerts/3"
    assert env(subject="x", link="https://elsewhere/a").link == "https://elsewhere/a"
    assert env(subject="x").link is None
