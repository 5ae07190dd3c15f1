"""Each channel delivers to a real local endpoint: SMTP (aiosmtpd), Apprise json://, PagerDuty and
Opsgenie payloads checked against their documented shapes, webhook signatures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.db.engine import migrate
from fictra.notify.channels.webhook import sign, verify_signature
from fictra.notify.models import Notification, NotificationStatus

from .helpers import config, outbox, put
from .receiver import Received


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only here: channels do not touch the database (the outbox is tested on both backends)."""
    url = f"sqlite:///{tmp_path / 'channels.db'}"
    migrate(url)
    return url


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


logins: list[tuple[bytes, bytes]] = []


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    if not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False)
    logins.append((auth_data.login, auth_data.password))
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"ops", b"pw-from-env"))


@pytest.fixture
def smtp_auth() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def _statuses(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str | None]]:
    async with sessions() as s:
        rows = await s.scalars(select(Notification).order_by(Notification.id))
        return [(r.status, r.last_error) for r in rows]


async def test_email_reaches_a_real_smtp_server(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    cfg = config(
        {
            "type": "email",
            "name": "mail",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "fictra@ops.test",
            "to": ["oncall@ops.test", "lead@ops.test"],
        }
    )
    deadline = clock.now().replace(hour=0, minute=15)
    await put(sessions, clock, "alert-42-fired", channel="mail", deadline=deadline.isoformat())
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)]
    [(sender, rcpts, mail)] = inbox.mails
    assert sender == "fictra@ops.test" and rcpts == ["oncall@ops.test", "lead@ops.test"]
    assert mail["Subject"] == "[P0 FIRING] Reserve ratio below floor"
    assert mail["X-Fictra-Idempotency-Key"] == "alert-42-fired"
    text = mail.get_payload(decode=True).decode()
    assert "Severity: P0" in text
    assert "Acknowledge by: 2026-01-01 00:15:00 UTC" in text
    assert "Console: http://console.test/alerts/42" in text
    assert "observed: 0.91" in text and "floor: 0.95" in text


async def test_email_to_a_closed_port_is_retried_with_a_clear_error(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    port = _free_port()
    cfg = config(
        {"type": "email", "name": "mail", "host": "127.0.0.1", "port": port, "security": "none",
         "sender": "a@b.c", "to": ["x@y.z"], "timeout": "2s"}
    )  # fmt: skip
    await put(sessions, clock, "k", channel="mail")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(status, error)] = await _statuses(sessions)
    assert status == NotificationStatus.PENDING
    assert error is not None and f"SMTP 127.0.0.1:{port} failed" in error


async def test_email_password_from_an_unset_env_var_fails_without_leaking(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    base_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FICTRA_TEST_SMTP_PW", raising=False)
    cfg = config(
        {"type": "email", "name": "mail", "host": "127.0.0.1", "port": 25, "username": "u",
         "password": "env:FICTRA_TEST_SMTP_PW", "sender": "a@b.c", "to": ["x@y.z"]}
    )  # fmt: skip
    await put(sessions, clock, "k", channel="mail")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(status, error)] = await _statuses(sessions)
    assert status == NotificationStatus.PENDING
    assert error == (
        "receivers.yaml:ops.mail.password: secret reference 'env:FICTRA_TEST_SMTP_PW' names an unset "
        "environment variable."
    )


async def test_apprise_json_schema_posts_to_the_local_receiver(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory()
    url = rcv.url.replace("http://", "json://") + "/chat"
    cfg = config({"type": "apprise", "name": "chat", "urls": [url]})
    await put(sessions, clock, "k", channel="chat")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)]
    [req] = rcv.requests
    assert req.path == "/chat"
    body = req.json
    assert body["title"] == "[P0 FIRING] Reserve ratio below floor"
    assert body["type"] == "failure"
    assert "Console: http://console.test/alerts/42" in body["message"]


async def test_apprise_failure_is_retried_and_a_bad_url_is_dead(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(fail_first=1)
    cfg = config(
        {"type": "apprise", "name": "chat", "urls": [rcv.url.replace("http://", "json://")]},
        {"type": "apprise", "name": "bad", "urls": ["nosuchservice://token"]},
    )
    await put(sessions, clock, "k1", channel="chat")
    await put(sessions, clock, "k2", channel="bad")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
        (s1, e1), (s2, e2) = await _statuses(sessions)
        assert s1 == NotificationStatus.PENDING and "Apprise could not deliver" in (e1 or "")
        assert s2 == NotificationStatus.DEAD and "receivers.yaml:ops.bad.urls.0 is not a URL" in (e2 or "")
        clock.advance(3600)
        await box.run_once()
        assert (await _statuses(sessions))[0] == (NotificationStatus.DELIVERED, None)
    finally:
        await box.aclose()


_PD_SEVERITIES = {"critical", "error", "warning", "info"}


def _validate_pagerduty(req: Received) -> str | None:
    """The Events API v2 contract (developer.pagerduty.com, "Send an Event")."""
    e = req.json
    if req.path != "/v2/enqueue" or req.headers.get("Content-Type") != "application/json":
        return "wrong path or content type"
    if not isinstance(e.get("routing_key"), str) or len(e["routing_key"]) != 32:
        return "routing_key must be a 32-character integration key"
    if e.get("event_action") not in {"trigger", "acknowledge", "resolve"}:
        return "bad event_action"
    if not isinstance(e.get("dedup_key"), str) or not 0 < len(e["dedup_key"]) <= 255:
        return "dedup_key"
    if e["event_action"] == "trigger":
        p = e.get("payload", {})
        if not (isinstance(p.get("summary"), str) and 0 < len(p["summary"]) <= 1024):
            return "payload.summary"
        if not p.get("source") or p.get("severity") not in _PD_SEVERITIES:
            return "payload.source/severity"
        for link in e.get("links", []):
            if set(link) - {"href", "text"} or "href" not in link:
                return "links"
    elif "payload" in e:
        return "payload only on trigger"
    return None


async def test_pagerduty_trigger_and_resolve_share_the_dedup_key(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(status=202, validate=_validate_pagerduty)
    key = "0123456789abcdef0123456789abcdef"
    cfg = config({"type": "pagerduty", "name": "pd", "routing_key": key, "url": rcv.url + "/v2/enqueue"})
    await put(sessions, clock, "alert-42-fired", channel="pd", group_key="fictra-alert-42")
    await put(
        sessions, clock, "alert-42-resolved", channel="pd", group_key="fictra-alert-42", status="resolved"
    )
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)] * 2
    trigger, resolve = (r.json for r in rcv.requests)
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "fictra-alert-42"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["source"] == "devnet"
    assert trigger["payload"]["custom_details"]["evidence"] == {"observed": "0.91", "floor": "0.95"}
    assert trigger["links"] == [
        {"href": "http://console.test/alerts/42", "text": "Open in the FICTRA Ops console"}
    ]


async def test_pagerduty_400_is_a_permanent_failure(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(status=202, validate=_validate_pagerduty)
    cfg = config({"type": "pagerduty", "name": "pd", "routing_key": "short", "url": rcv.url + "/v2/enqueue"})
    await put(sessions, clock, "k", channel="pd")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(status, error)] = await _statuses(sessions)
    assert (
        status == NotificationStatus.DEAD and "HTTP 400" in (error or "") and "routing_key" in (error or "")
    )


def _validate_opsgenie(req: Received) -> str | None:
    """Opsgenie Alert API (docs.opsgenie.com, "Create Alert" / "Close Alert")."""
    if req.headers.get("Authorization") != "GenieKey og-key-123":
        return "Authorization: GenieKey <key> missing"
    body = req.json
    if req.path == "/v2/alerts":
        if not isinstance(body.get("message"), str) or not 0 < len(body["message"]) <= 130:
            return "message"
        if len(body.get("alias", "")) > 512 or len(body.get("description", "")) > 15000:
            return "alias/description length"
        if body.get("priority") not in {"P1", "P2", "P3", "P4", "P5"}:
            return "priority"
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in body.get("details", {}).items()):
            return "details must map strings to strings"
        if len(body.get("tags", [])) > 20:
            return "tags"
        return None
    if req.path.startswith("/v2/alerts/") and req.path.endswith(("/close", "/acknowledge")):
        return None if req.query.get("identifierType") == "alias" else "identifierType"
    return f"unknown path {req.path}"


async def test_opsgenie_create_then_close_by_alias(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(status=202, validate=_validate_opsgenie)
    cfg = config(
        {"type": "opsgenie", "name": "og", "api_key": "og-key-123", "url": rcv.url, "tags": ["fictra"]}
    )
    await put(sessions, clock, "a-fired", channel="og", group_key="fictra-alert-42", subject="x" * 200)
    await put(sessions, clock, "a-acked", channel="og", group_key="fictra-alert-42", status="acknowledged")
    await put(sessions, clock, "a-resolved", channel="og", group_key="fictra-alert-42", status="resolved")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)] * 3
    create, ack, close = sorted(
        rcv.requests, key=lambda r: ("/acknowledge" in r.path) + 2 * ("/close" in r.path)
    )
    assert ack.path == "/v2/alerts/fictra-alert-42/acknowledge"
    assert create.json["alias"] == "fictra-alert-42" and create.json["priority"] == "P1"
    assert create.json["details"]["console"] == "http://console.test/alerts/42"
    assert create.json["tags"] == ["fictra", "P0"]
    assert close.path == "/v2/alerts/fictra-alert-42/close"


def test_signature_verification_rejects_tampering_and_replays() -> None:
    body = b'{"a":1}'
    header = sign("k", 1000, body)
    assert verify_signature("k", header, body, now=1000)
    assert not verify_signature("k", header, b'{"a":2}', now=1000)
    assert not verify_signature("other", header, body, now=1000)
    assert not verify_signature("k", header, body, now=1000 + 301)
    assert not verify_signature("k", "garbage", body, now=1000)
    assert not verify_signature("k", "t=x,v1=y", body, now=1000)


async def test_webhook_timeout_is_retryable(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(hold=asyncio.Event())
    cfg = config({"type": "webhook", "name": "hook", "url": rcv.url, "timeout": "200ms"})
    await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        rcv.hold.set()
        await box.aclose()
    [(status, error)] = await _statuses(sessions)
    assert status == NotificationStatus.PENDING and "timed out after 0.2s" in (error or "")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, NotificationStatus.DEAD), (429, NotificationStatus.PENDING), (408, NotificationStatus.PENDING),
     (503, NotificationStatus.PENDING), (204, NotificationStatus.DELIVERED)],
)  # fmt: skip
async def test_http_status_decides_retry_or_dead_letter(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    base_dir: Path,
    receiver_factory,
    status: int,
    expected: NotificationStatus,
) -> None:
    rcv = await receiver_factory(status=status)
    cfg = config({"type": "webhook", "name": "hook", "url": rcv.url})
    await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(got, error)] = await _statuses(sessions)
    assert got == expected
    assert (error is None) == (expected == NotificationStatus.DELIVERED)


async def test_webhook_url_and_secret_from_env_and_file_references(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    base_dir: Path,
    receiver_factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rcv = await receiver_factory(secret="from-a-file", now=lambda: clock.now().timestamp())
    monkeypatch.setenv("FICTRA_TEST_HOOK_URL", rcv.url + "/secret-path")
    (base_dir / "hook.key").write_text("from-a-file\n")
    cfg = config(
        {"type": "webhook", "name": "hook", "url": "env:FICTRA_TEST_HOOK_URL", "secret": "file:hook.key"}
    )
    await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)]
    assert rcv.requests[0].path == "/secret-path" and rcv.delivered == {"k": 1}


async def test_errors_never_show_the_secret_parts_of_urls(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    port = _free_port()
    url = f"http://user:hunter2@127.0.0.1:{port}/hook?token=abc123"
    cfg = config({"type": "webhook", "name": "hook", "url": url, "timeout": "2s"})
    await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(status, error)] = await _statuses(sessions)
    assert status == NotificationStatus.PENDING and error is not None
    assert "hunter2" not in error and "abc123" not in error and "127.0.0.1" in error


async def test_email_logs_in_with_credentials_from_the_environment(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    base_dir: Path,
    smtp_auth: tuple[_Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = smtp_auth
    channel = {"type": "email", "host": "127.0.0.1", "port": port, "security": "none", "sender": "a@b.c",
               "to": ["x@y.z"], "username": "ops", "password": "env:FICTRA_TEST_SMTP_PW"}  # fmt: skip
    cfg = config({**channel, "name": "good"})
    monkeypatch.setenv("FICTRA_TEST_SMTP_PW", "pw-from-env")
    await put(sessions, clock, "k1", channel="good")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    assert await _statuses(sessions) == [(NotificationStatus.DELIVERED, None)]
    assert [m["X-Fictra-Idempotency-Key"] for _, _, m in inbox.mails] == ["k1"]
    assert logins == [(b"ops", b"pw-from-env")]
