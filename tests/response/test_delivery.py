"""The escalation path delivered for real: level notifications leave the outbox through NOTIFY's worker
to a local SMTP server (aiosmtpd) and a local webhook receiver, driven by a fake clock (no sleeps)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from fictra.alerting.models import Alert
from fictra.notify.config import ReceiversConfig
from fictra.notify.models import NotificationStatus
from fictra.notify.worker import Outbox
from notify.receiver import Receiver

from .helpers import Harness, finding, make_config

SECRET = "s3cret-hmac-key"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


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
async def webhook(clock) -> Any:
    receiver = Receiver(secret=SECRET, now=lambda: clock.now().timestamp())  # signatures carry the fake time
    await receiver.start()
    yield receiver
    await receiver.stop()


def receivers(smtp_port: int, webhook_url: str) -> ReceiversConfig:
    return ReceiversConfig.model_validate(
        {
            "receivers": [
                {"name": "ops-log", "channels": [{"type": "log"}]},
                {
                    "name": "ops-email",
                    "channels": [
                        {
                            "type": "email",
                            "host": "127.0.0.1",
                            "port": smtp_port,
                            "security": "none",
                            "sender": "fictra@ops.test",
                            "to": ["oncall@ops.test"],
                        }
                    ],
                },
                {
                    "name": "ops-webhook",
                    "channels": [{"type": "webhook", "url": webhook_url, "secret": SECRET}],
                },
            ],
            "console_url": "http://console.test",
        }
    )


async def test_each_level_is_delivered_at_its_time_and_ack_stops_it(
    sessions, clock, tmp_path: Path, smtp, webhook
) -> None:
    inbox, port = smtp
    rc = receivers(port, webhook.url)
    config = make_config()
    config.receivers = {r.name: [c.key for c in r.channels] for r in rc.receivers}
    h = Harness(sessions, clock, config)
    box = Outbox(sessions=sessions, config=rc, clock=clock, base_dir=tmp_path)
    try:
        [alert_id] = await h.fire(finding())
        await box.run_once()
        [(rcpts, mail)] = inbox.mails  # level 1: alice, by email, at once
        assert (
            rcpts == ["oncall@ops.test"] and "[P0" in mail["Subject"] and "paused happened" in mail["Subject"]
        )
        assert webhook.requests == []

        clock.advance(15 * 60)
        await h.tick()
        await box.run_once()
        [hook] = webhook.requests  # level 2: bob, by signed webhook, 15 minutes later
        assert hook.json["alert_id"] == alert_id and "bob" in hook.body.decode()
        assert sum(webhook.delivered.values()) == 1  # signature verified, accepted
        assert len(inbox.mails) == 1

        clock.advance(5 * 60)
        async with sessions.begin() as session:
            await session.execute(
                update(Alert)
                .where(Alert.id == alert_id)
                .values(acknowledged_at=clock.now(), acknowledged_by="bob")
            )
        for _ in range(4):
            clock.advance(15 * 60)
            await h.tick()
            await box.run_once()
        assert len(webhook.requests) == 1 and len(inbox.mails) == 1  # acknowledged: nobody else is woken
        statuses = {n.status for n in await h.outbox()}
        assert statuses == {NotificationStatus.DELIVERED.value}
    finally:
        await box.aclose()
