"""Operations pages: the outbox's dead letters with a Retry button (audited, permission-checked) and who is
on call now and next."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import httpx

from api.rig import CONFIG_DIR, ApiRig
from fictra.audit.service import list_entries
from fictra.notify import service
from fictra.notify.message import Message
from fictra.notify.models import Notification
from fictra.platform.config_set import load_config_set
from web.conftest import AUDITOR, LEGAL, VIEWER, client_for, csrf_of, sign_in

ROW = re.compile(r'data-notification-id="(\d+)"')


async def _notification(rig: ApiRig, key: str, *, dead: bool) -> int:
    async with rig.sessions.begin() as session:
        found = await service.enqueue(
            session,
            receiver="ops-webhook",
            channel="webhook",
            message=Message(subject=f"Reserve paused ({key})", severity="P0"),
            idempotency_key=key,
            clock=rig.clock,
        )
        assert found is not None
        if dead:
            row = await session.get(Notification, found)
            assert row is not None
            row.status, row.attempts, row.last_error = "dead", 8, "HTTP 500 from receiver"
    return found


async def test_dead_letters_listed_with_a_retry_button_that_requeues_and_audits(
    rig: ApiRig, lead: httpx.AsyncClient
) -> None:
    dead = await _notification(rig, "k-dead", dead=True)
    pending = await _notification(rig, "k-pending", dead=False)
    page = await lead.get("/notifications")  # dead letters by default
    assert page.status_code == 200
    assert [int(i) for i in ROW.findall(page.text)] == [dead]
    assert "HTTP 500 from receiver" in page.text and f'id="btn-retry-{dead}"' in page.text
    assert re.search(r'id="count-dead">1<', page.text) and re.search(r'id="count-pending">1<', page.text)
    assert [int(i) for i in ROW.findall((await lead.get("/notifications?status=pending")).text)] == [pending]

    done = await lead.post(
        f"/notifications/{dead}/retry", data={"csrf_token": csrf_of(page.text), "reason": "receiver fixed"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/notifications?retried={dead}"
    after = await lead.get(done.headers["location"])
    assert f"Notification {dead} is queued again" in after.text
    assert ROW.findall(after.text) == [] and 'id="notifications-empty"' in after.text
    async with rig.sessions() as session:
        row = await service.get_notification(session, notification_id=dead)
        assert (row.status, row.attempts) == ("pending", 0)
        entries = await list_entries(session, action="notification.retry")
    assert [(e.actor, e.target, e.reason) for e in entries] == [
        ("u-technical-lead", f"notification:{dead}", "receiver fixed")
    ]

    # a second press finds it no longer dead: 409 with the service's message, nothing audited again
    again = await lead.post(f"/notifications/{dead}/retry", data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409 and "only dead notifications can be retried" in again.text
    missing = await lead.post("/notifications/999999/retry", data={"csrf_token": csrf_of(page.text)})
    assert missing.status_code == 404 and "Notification 999999 does not exist" in missing.text
    async with rig.sessions() as session:
        assert len(await list_entries(session, action="notification.retry")) == 1


async def test_retry_needs_the_permission_and_the_csrf_token(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    dead = await _notification(rig, "k-dead", dead=True)
    async with client_for(rig) as auditor:  # security officer: notifications.read, not .retry
        assert (await sign_in(auditor, AUDITOR)).status_code == 303
        page = await auditor.get("/notifications")
        assert page.status_code == 200 and [int(i) for i in ROW.findall(page.text)] == [dead]
        assert "btn-retry" not in page.text  # no button
        refused = await auditor.post(f"/notifications/{dead}/retry", data={"csrf_token": csrf_of(page.text)})
        assert refused.status_code == 403 and "notifications.retry" in refused.text
    forged = await lead.post(f"/notifications/{dead}/retry", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    async with rig.sessions() as session:
        assert (await service.get_notification(session, notification_id=dead)).status == "dead"
        assert await list_entries(session, action="notification.retry") == []


async def test_notifications_page_refuses_without_read_and_names_a_bad_status(
    rig: ApiRig, viewer: httpx.AsyncClient, lead: httpx.AsyncClient
) -> None:
    refused = await viewer.get("/notifications")
    assert refused.status_code == 403 and "notifications.read" in refused.text
    assert 'href="/notifications"' not in (await viewer.get("/")).text  # not in the viewer's menu
    bad = await lead.get("/notifications?status=lost")
    assert bad.status_code == 200 and "Status &#39;lost&#39; is not one of pending" in bad.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.app), base_url="http://t") as anon:
        assert (await anon.get("/notifications")).headers["location"].startswith("/login?next=")


def _shipped_oncall(rig: ApiRig) -> None:
    """The API rig copies only the alerting config: add the shipped on-call and escalation files."""
    for name in ("oncall.yaml", "escalation.yaml", "routing.yaml", "inhibit.yaml"):
        shutil.copy(CONFIG_DIR / name, rig.context.settings.config_dir / name)
    rig.context.config = load_config_set(rig.context.settings.config_dir)  # read at start-up only


async def test_oncall_now_and_next_follows_the_clock(rig: ApiRig, viewer: httpx.AsyncClient) -> None:
    _shipped_oncall(rig)
    # the shipped first-line rotation starts Monday 2026-01-05 09:00 UTC; the rig's clock is 2026-01-01
    before = await viewer.get("/oncall")
    assert before.status_code == 200 and 'data-schedule="first-line"' in before.text
    now, upcoming = _shifts(before.text)
    assert "nobody" in now and "support-1" in upcoming and "2026-01-05 09:00:00 UTC" in upcoming
    rig.clock.advance(timedelta(days=5).total_seconds())  # 2026-01-06: week one (sessions expired by then)
    async with client_for(rig) as later:
        assert (await sign_in(later, VIEWER)).status_code == 303
        now, upcoming = _shifts((await later.get("/oncall")).text)
    assert "support-1" in now and "until 2026-01-12 09:00:00 UTC" in now
    assert "support-2" in upcoming and "2026-01-12 09:00:00 UTC" in upcoming


async def test_oncall_page_needs_oncall_read(rig: ApiRig) -> None:
    _shipped_oncall(rig)
    async with client_for(rig) as legal:  # legal: no oncall.read
        assert (await sign_in(legal, LEGAL)).status_code == 303
        refused = await legal.get("/oncall")
        assert refused.status_code == 403 and "oncall.read" in refused.text
        assert 'href="/oncall"' not in (await legal.get("/")).text


def _shifts(html: str) -> tuple[str, str]:
    now = re.search(r'<dd class="oncall-now">(.*?)</dd>', html, re.S)
    upcoming = re.search(r'<dd class="oncall-next">(.*?)</dd>', html, re.S)
    assert now and upcoming, html
    return now.group(1), upcoming.group(1)


async def test_oncall_page_without_schedules_says_so(viewer: httpx.AsyncClient) -> None:
    page = await viewer.get("/oncall")  # the rig's config has no oncall.yaml
    assert page.status_code == 200 and 'id="oncall-empty"' in page.text


def test_recipients_show_who_each_channel_reaches_without_secrets() -> None:
    from fictra.notify.config import ReceiversConfig
    from fictra.web.operations import recipients

    config = ReceiversConfig.model_validate(
        {
            "receivers": [
                {
                    "name": "oncall",
                    "channels": [
                        {"type": "email", "host": "smtp.example.org", "sender": "ops@example.org",
                         "to": ["a@example.org", "b@example.org"]},
                        {"type": "webhook", "url": "https://hooks.example.org/secret-path?token=x"},
                        {"type": "log", "level": "error"},
                    ],
                }
            ]
        }
    )  # fmt: skip
    assert recipients(config) == {
        ("oncall", "email"): "a@example.org, b@example.org",
        ("oncall", "webhook"): "https://hooks.example.org/***",
        ("oncall", "log"): "platform log (error)",
    }


async def test_notifications_page_shows_the_recipients(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    await _notification(rig, "k-recipients", dead=True)
    page = await lead.get("/notifications")
    assert "<th>Recipients</th>" in page.text and 'data-col="recipients"' in page.text
