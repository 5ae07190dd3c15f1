"""Stakeholder updates, emergency meetings and overdue reminders delivered for real: NOTIFY's outbox worker
sends them to a local SMTP server (aiosmtpd) and a signed local webhook receiver; a fake clock drives the
cadence."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.errors import ConflictError, UsageError
from fictra.incidents import communications, service
from fictra.incidents.config import IncidentsConfig
from fictra.notify.config import ReceiversConfig
from fictra.notify.models import Notification
from fictra.notify.worker import Outbox
from notify.receiver import Receiver

from .helpers import LEAD, add_users, audit, events

SECRET = "incident-hook-secret"
Sessions = async_sessionmaker[AsyncSession]


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _body(mail: EmailMessage) -> str:
    part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
async def webhook(clock: FakeClock) -> AsyncIterator[Receiver]:
    receiver = Receiver(secret=SECRET, now=lambda: clock.now().timestamp())
    await receiver.start()
    yield receiver
    await receiver.stop()


def _receivers(smtp_port: int, url: str) -> ReceiversConfig:
    email = {
        "type": "email",
        "host": "127.0.0.1",
        "port": smtp_port,
        "security": "none",
        "sender": "ops@f.test",
    }
    return ReceiversConfig.model_validate(
        {
            "receivers": [
                {"name": "ops-log", "channels": [{"type": "log"}]},
                {"name": "tech-mail", "channels": [{**email, "to": ["tech@f.test"]}]},
                {"name": "biz-mail", "channels": [{**email, "to": ["biz@f.test"]}]},
                {"name": "liaison-mail", "channels": [{**email, "to": ["liaison@f.test"]}]},
                {"name": "regulator-hook", "channels": [{"type": "webhook", "url": url, "secret": SECRET}]},
            ],
            "console_url": "http://console.test",
        }
    )


def _config(rc: ReceiversConfig) -> IncidentsConfig:
    cfg = IncidentsConfig.model_validate(
        {
            "groups": {
                "technical_team": ["tech-mail"],
                "business_team": ["biz-mail"],
                "regulators": ["regulator-hook"],
                "market_participants": [],
            },
            "cadence": {"P0": "30m"},
        }
    )
    return cfg.with_directory(
        {r.name: [c.key for c in r.channels] for r in rc.receivers}, {"erin": "liaison-mail"}
    )


@pytest.fixture
async def rig(
    sessions: Sessions, clock: FakeClock, tmp_path: Path, smtp: tuple[Inbox, int], webhook: Receiver
) -> AsyncIterator[tuple[IncidentsConfig, Outbox, Inbox, Receiver]]:
    inbox, port = smtp
    rc = _receivers(port, webhook.url)
    box = Outbox(sessions=sessions, config=rc, clock=clock, base_dir=tmp_path)
    try:
        yield _config(rc), box, inbox, webhook
    finally:
        await box.aclose()


async def _declare(sessions: Sessions, clock: FakeClock) -> int:
    async with sessions.begin() as s:
        view = await service.declare(
            s,
            title="Reserve drained",
            severity="P0",
            category="market",
            actor=LEAD,
            clock=clock,
            summary="Reserve collateral ratio fell below 100%",
        )
    return view.id


async def test_updates_reach_each_group_and_satisfy_outputs(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, box, inbox, hook = rig
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        sent = await communications.send_update(
            s,
            incident_id=iid,
            groups=["technical_team", "regulators"],
            template="initial",
            actor=LEAD,
            clock=clock,
            extra={"impact": "PT redemptions paused"},
            config=cfg,
            console_url="http://console.test",
        )
    assert [(d["group"], d["receiver"]) for d in sent.deliveries] == [
        ("technical_team", "tech-mail"),
        ("regulators", "regulator-hook"),
    ]
    assert sent.subject == f"[P0] Incident #{iid} declared: Reserve drained"
    await box.run_once()
    [(rcpts, mail)] = inbox.mails
    assert (
        rcpts == ["tech@f.test"]
        and mail["Subject"] == f"[P0 FIRING] Incident #{iid} declared: Reserve drained"
    )
    text = _body(mail)
    assert "Technical team," in text and "Impact: PT redemptions paused" in text
    assert f"http://console.test/incidents/{iid}" in text and "Next update by 2026-01-01 00:30 UTC" in text
    [request] = hook.requests
    assert sum(hook.delivered.values()) == 1  # signature verified
    assert "Regulators," in request.body.decode()
    async with sessions() as s:
        view = await service.get_incident(s, iid)
    first = view.output("initial_notification")
    assert first.status == "done" and first.source.startswith("update:")  # type: ignore[union-attr]
    assert view.output("ongoing_communication").status == "missing"
    assert view.last_update_at == clock.now() and view.next_update_due == clock.now() + timedelta(minutes=30)

    clock.advance(600)
    async with sessions.begin() as s:
        await communications.send_update(
            s,
            incident_id=iid,
            groups=["business_team"],
            template="status",
            actor=LEAD,
            clock=clock,
            extra={"message": "Guardian pause confirmed"},
            config=cfg,
        )
        view = await service.get_incident(s, iid)
    assert view.output("ongoing_communication").status == "done"
    await box.run_once()
    assert [m[0] for m in inbox.mails] == [["tech@f.test"], ["biz@f.test"]]
    assert "Guardian pause confirmed" in _body(inbox.mails[1][1])
    timeline = [t for k, t in await events(sessions, iid) if k == "status_update"]
    assert (
        timeline[0]
        == f"Initial update to technical_team, regulators: [P0] Incident #{iid} declared: Reserve drained"
    )
    assert [e["after"]["template"] for e in await audit(sessions, "incident.update")] == ["initial", "status"]


async def test_replayed_update_with_the_same_dedupe_sends_nothing_twice(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, box, inbox, _ = rig
    iid = await _declare(sessions, clock)
    for _ in range(2):
        async with sessions.begin() as s:
            await communications.send_update(
                s,
                incident_id=iid,
                groups=["technical_team"],
                template="initial",
                actor=LEAD,
                clock=clock,
                config=cfg,
                dedupe="declared",
            )
    async with sessions() as s:
        rows = (await s.execute(select(Notification))).scalars().all()
    assert len(rows) == 1
    await box.run_once()
    assert len(inbox.mails) == 1


async def test_overdue_reminder_goes_to_the_liaison_once_per_deadline(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, box, inbox, _ = rig
    await add_users(sessions, clock, "erin")
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        await service.assign_role(
            s, incident_id=iid, role="liaison", username="erin", actor=LEAD, clock=clock
        )
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == []  # not due yet
    clock.advance(31 * 60)
    async with sessions.begin() as s:
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == [iid]
    async with sessions.begin() as s:
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == []  # once per deadline
    await box.run_once()
    [(rcpts, mail)] = inbox.mails
    assert (
        rcpts == ["liaison@f.test"]
        and mail["Subject"] == f"[P0 FIRING] Status update overdue for incident #{iid}"
    )
    assert "was due at 2026-01-01 00:30 UTC (every 30 min at P0)" in _body(mail)
    assert [k for k, _ in await events(sessions, iid)][-1] == "reminder"
    # an update resets the clock; the next deadline gets its own reminder
    async with sessions.begin() as s:
        await communications.send_update(
            s,
            incident_id=iid,
            groups=["technical_team"],
            template="status",
            actor=LEAD,
            clock=clock,
            config=cfg,
        )
    clock.advance(29 * 60)
    async with sessions.begin() as s:
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == []
    clock.advance(2 * 60)
    async with sessions.begin() as s:
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == [iid]
    assert [e["actor"] for e in await audit(sessions, "incident.reminder")] == ["system", "system"]


async def test_reminder_without_liaison_goes_to_the_fallback_receiver(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, *_ = rig
    iid = await _declare(sessions, clock)
    clock.advance(3600)
    async with sessions.begin() as s:
        assert await communications.remind_overdue(s, config=cfg, clock=clock) == [iid]
        [row] = (await s.execute(select(Notification))).scalars().all()
    assert row.receiver == "ops-log" and row.channel == "log"


async def test_emergency_meeting_notifies_each_attendee(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, box, inbox, hook = rig
    iid = await _declare(sessions, clock)
    at = clock.now() + timedelta(minutes=20)
    async with sessions.begin() as s:
        meeting = await communications.schedule_meeting(
            s,
            incident_id=iid,
            starts_at=at,
            bridge="https://meet.f.test/reserve +1 555 0100",
            attendees=["erin", "regulators"],
            agenda="Trading halt and market communication",
            actor=LEAD,
            clock=clock,
            config=cfg,
        )
        view = await service.get_incident(s, iid)
    assert meeting.attendees == ["erin", "regulators"] and view.meetings[0].id == meeting.id
    await box.run_once()
    [(rcpts, mail)] = inbox.mails
    assert rcpts == ["liaison@f.test"] and "Emergency meeting for incident" in mail["Subject"]
    assert "Bridge: https://meet.f.test/reserve +1 555 0100" in _body(mail)
    assert len(hook.requests) == 1 and "Regulators," in hook.requests[0].body.decode()
    [text] = [t for k, t in await events(sessions, iid) if k == "meeting"]
    assert text == (
        "Emergency meeting at 2026-01-01 00:20 UTC on https://meet.f.test/reserve +1 555 0100 "
        "with erin, regulators"
    )


async def test_bad_requests(
    sessions: Sessions, clock: FakeClock, rig: tuple[IncidentsConfig, Outbox, Inbox, Receiver]
) -> None:
    cfg, *_ = rig
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        with pytest.raises(
            UsageError, match=r"Template 'tweet' is not one of: initial, status, resolution, market\."
        ):
            await communications.send_update(
                s, incident_id=iid, groups=["regulators"], template="tweet", actor=LEAD, clock=clock
            )
        with pytest.raises(
            UsageError, match="Unknown stakeholder group 'press'; expected one of: technical_team"
        ):
            await communications.send_update(
                s, incident_id=iid, groups=["press"], template="status", actor=LEAD, clock=clock
            )
        with pytest.raises(UsageError, match="Name at least one stakeholder group"):
            await communications.send_update(
                s, incident_id=iid, groups=[], template="status", actor=LEAD, clock=clock
            )
        with pytest.raises(
            UsageError, match=r"Unknown attendee 'zed'; expected a person of oncall\.yaml or a group: erin"
        ):
            await communications.schedule_meeting(
                s,
                incident_id=iid,
                starts_at=clock.now(),
                bridge="x",
                attendees=["zed"],
                actor=LEAD,
                clock=clock,
                config=cfg,
            )
        with pytest.raises(UsageError, match=r"The meeting bridge \(URL or dial-in\) is empty"):
            await communications.schedule_meeting(
                s,
                incident_id=iid,
                starts_at=clock.now(),
                bridge=" ",
                attendees=["erin"],
                actor=LEAD,
                clock=clock,
                config=cfg,
            )
    async with sessions.begin() as s:
        view = await service.get_incident(s, iid)
        assert view.last_update_at is None
    await _close(sessions, clock, iid)
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match="cannot be sent updates other than the resolution"):
            await communications.send_update(
                s,
                incident_id=iid,
                groups=["regulators"],
                template="status",
                actor=LEAD,
                clock=clock,
                config=cfg,
            )
        done = await communications.send_update(
            s,
            incident_id=iid,
            groups=["regulators"],
            template="resolution",
            actor=LEAD,
            clock=clock,
            config=cfg,
        )
    assert done.subject.startswith(f"[P0] Incident #{iid} resolved")


async def _close(sessions: Sessions, clock: FakeClock, iid: int) -> None:
    from fictra.incidents import tasks
    from fictra.incidents.phases import OUTPUTS

    await add_users(sessions, clock, "owner")
    async with sessions.begin() as s:
        await tasks.add_task(
            s,
            incident_id=iid,
            title="fix",
            owner="owner",
            due_at=clock.now() + timedelta(days=3),
            actor=LEAD,
            clock=clock,
        )
        for spec in OUTPUTS:
            if not spec.derived and spec.key != "classification":
                await service.record_output(
                    s, incident_id=iid, key=spec.key, text="ok", actor=LEAD, clock=clock
                )
        await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
