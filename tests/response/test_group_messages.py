"""Group notifications as Alertmanager sends them, delivered for real to a local SMTP server (aiosmtpd):
every alert with labels, evidence, link and deadline; the summary and count in the subject; an RFC 5322
Message-ID with the configured domain; resolved notices with the group's severity and resolved count, and
none for a group that never notified (it fired and resolved inside group_wait)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from fictra.alerting.findings import Finding, Severity
from fictra.notify.config import ReceiversConfig
from fictra.notify.worker import Outbox
from fictra.response.grouping import Dispatcher, GroupedAlert
from fictra.response.routing import match_routes

from .helpers import Harness, make_config

# RFC 5322 msg-id: "<" dot-atom-text "@" dot-atom-text ">"
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"^<{ATEXT}(\.{ATEXT})*@ops\.example\.org>$")


class Inbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        if (
            str(mail["X-Fictra-Idempotency-Key"]).strip().startswith("group:")
        ):  # not the escalation's own mails
            self.mails.append(mail)  # type: ignore[arg-type]
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


def _finding(name: str, severity: Severity, instance: str) -> Finding:
    return Finding(
        monitor="test-reserve",
        severity=severity,
        summary=f"{name} on {instance}",
        labels={"name": name, "instance": instance},
        evidence={"observed": 0.91, "floor": 0.95},
    )


async def test_group_mail_has_alerts_summary_message_id_and_resolved_notices(
    sessions: Any, clock: Any, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    rc = ReceiversConfig.model_validate(
        {
            "receivers": [
                {"name": "ops-log", "channels": [{"type": "log"}]},
                {
                    "name": "ops-email",
                    "channels": [
                        {
                            "type": "email",
                            "host": "127.0.0.1",
                            "port": port,
                            "security": "none",
                            "sender": "fictra@ops.example.org",
                            "to": ["oncall@ops.example.org"],
                            "message_id_domain": "ops.example.org",
                        }
                    ],
                },
            ],
            "console_url": "http://console.test",
        }
    )
    routing = {
        "route": {
            "receiver": "ops-email",
            "group_by": ["monitor"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        }
    }
    config = make_config(routing=routing)
    config.receivers = {r.name: [c.key for c in r.channels] for r in rc.receivers}
    h = Harness(sessions, clock, config)
    h.ctx.link_base = "http://console.test"
    box = Outbox(sessions=sessions, config=rc, clock=clock, base_dir=tmp_path)
    low, high = _finding("reserve low", Severity.P1, "a"), _finding("reserve drained", Severity.P0, "b")
    try:
        [low_id] = await h.fire(low)
        [high_id] = await h.fire(high)
        clock.advance(30)
        await h.tick()
        await box.run_once()
        [mail] = inbox.mails
        assert MSG_ID.match(str(mail["Message-ID"])), mail["Message-ID"]
        assert mail["Subject"] == "[P0 FIRING:2] reserve drained on b (+1 more)"
        text = mail.get_content()
        for alert_id, instance in ((low_id, "a"), (high_id, "b")):
            assert f"Console: http://console.test/alerts/{alert_id}" in text
            assert f"instance={instance}" in text
        assert text.count("Acknowledge by: ") >= 2 and "observed: 0.91" in text

        # another group fires and resolves inside its group_wait: nobody was told, no resolved notice
        quick = Finding(monitor="test-flap", severity=Severity.P2, summary="flap", labels={"name": "flap"})
        await h.fire(quick)
        clock.advance(10)
        await h.clear(quick)
        clock.advance(30)
        await h.tick()
        await box.run_once()
        assert len(inbox.mails) == 1

        # the first group resolves: one notice with the group's severity and its resolved count
        await h.clear(low, high)
        clock.advance(5 * 60)
        await h.tick()
        await box.run_once()
        [_, resolved] = inbox.mails
        assert resolved["Subject"] == "[P0 RESOLVED:2] reserve drained on b (+1 more)"
        assert MSG_ID.match(str(resolved["Message-ID"]))
        assert resolved["Message-ID"] != mail["Message-ID"]
    finally:
        await box.aclose()


def test_resolved_notice_names_only_alerts_that_were_notified() -> None:
    from fictra.response.config import RoutingConfig

    tree = RoutingConfig.model_validate({"route": {"receiver": "r", "group_by": ["monitor"]}})
    [opts] = match_routes(tree.route, {"monitor": "m"})
    d = Dispatcher()
    t0 = clock0()
    d.add(opts, GroupedAlert(1, {"monitor": "m"}, True, "one", "P1"), now=t0)
    [first] = d.flush_due(now=t0 + opts.group_wait)
    assert [a.alert_id for a in first.firing] == [1]
    # alert 2 joins and resolves before the next flush; alert 1 resolves too
    d.add(opts, GroupedAlert(2, {"monitor": "m"}, True, "two", "P0"), now=t0 + timedelta(minutes=1))
    d.add(opts, GroupedAlert(2, {"monitor": "m"}, False, "two", "P0"), now=t0 + timedelta(minutes=2))
    d.add(opts, GroupedAlert(1, {"monitor": "m"}, False, "one", "P1"), now=t0 + timedelta(minutes=2))
    [done] = d.flush_due(now=t0 + opts.group_wait + opts.group_interval)
    assert done.firing == [] and [a.alert_id for a in done.resolved] == [1]
    assert d.groups == {}


def clock0() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, tzinfo=UTC)


def test_webhook_payload_carries_each_alert_with_labels_evidence_link_and_deadline() -> None:
    from fictra.notify.templates import Envelope, subject, webhook_payload
    from fictra.response.context import ResponseContext
    from fictra.response.group_message import group_message
    from fictra.response.grouping import GroupNotification

    from .helpers import make_config

    t0 = clock0()
    ctx = ResponseContext(config=make_config(), clock=None)  # type: ignore[arg-type]
    ctx.link_base = "http://console.test"
    firing = GroupedAlert(7, {"instance": "a"}, True, "low", "P1", deadline=t0, evidence={"observed": 3})
    gone = GroupedAlert(8, {"instance": "b"}, False, "drained", "P0", deadline=t0, evidence={})
    message = group_message(ctx, GroupNotification("ops", "root:{monitor=m}", 2, [firing], [gone]))
    env = Envelope(1, "group:k", "ops", "webhook", message, 1, "http://console.test")
    body = webhook_payload(env)
    assert [a["alert_id"] for a in body["alerts"]] == [7, 8]
    first, second = body["alerts"]
    assert first == {
        "alert_id": 7,
        "status": "firing",
        "severity": "P1",
        "summary": "low",
        "labels": {"instance": "a"},
        "evidence": {"observed": "3"},
        "link": "http://console.test/alerts/7",
        "deadline": t0.isoformat(),
    }
    assert second["status"] == "resolved" and second["deadline"] is None
    assert subject(env) == "[P1 FIRING:1] low"
    resolved_only = group_message(ctx, GroupNotification("ops", "g", 3, [], [gone, firing]))
    assert resolved_only.severity == "P0" and resolved_only.status == "resolved"
    assert resolved_only.fields["resolved"] == "2"
