"""Operations pages of alert response: the notification outbox's dead letters with a Retry button
(``notifications.read`` to look, ``notifications.retry`` to act; the notify service audits the retry), and
who is on call now and next per schedule (``oncall.read``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.response import response_context
from fictra.auth.actor import Actor
from fictra.config.fields import redact_secret_ref
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.notify import service
from fictra.notify.config import AppriseChannel, EmailChannel, LogChannel, ReceiversConfig
from fictra.notify.models import NotificationStatus
from fictra.response.queries import oncall_now
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
LIST_LIMIT = 200
STATUSES = [s.value for s in NotificationStatus]


def recipients(config: ReceiversConfig) -> dict[tuple[str, str], str]:
    """(receiver, channel) -> who that channel reaches, as shown to operators: email addresses, the
    webhook's scheme://host (the rest of a URL may hold a secret), the log level."""
    found: dict[tuple[str, str], str] = {}
    for receiver in config.receivers:
        for ch in receiver.channels:
            if isinstance(ch, EmailChannel):
                who = ", ".join(ch.to)
            elif isinstance(ch, LogChannel):
                who = f"platform log ({ch.level})"
            elif isinstance(ch, AppriseChannel):
                who = ", ".join(redact_secret_ref(u) for u in ch.urls)
            else:
                url = getattr(ch, "url", None)
                who = redact_secret_ref(str(url)) if url else str(getattr(ch, "type", ""))
            found[(receiver.name, ch.key)] = who
    return found


async def _notifications(
    request: Request,
    actor: Actor,
    *,
    status_code: int = 200,
    flash: str | None = None,
    flash_kind: str = "ok",
) -> Response:
    status = (request.query_params.get("status") or NotificationStatus.DEAD.value).strip()
    problem = None
    if status not in STATUSES:
        problem = f"Status '{status}' is not one of {', '.join(STATUSES)}."
    context = app_context(request)
    async with context.sessions() as session:
        counts = await service.count_by_status(session)
        rows = [] if problem else await service.list_notifications(session, status=status, limit=LIST_LIMIT)
    retried = request.query_params.get("retried")
    if flash is None and retried and retried.isdigit():
        flash = f"Notification {retried} is queued again; the outbox sends it on its next pass."
    return page(
        request,
        actor,
        "notifications.html",
        status_code=status_code,
        page="notifications",
        rows=rows,
        recipients=recipients(context.config_set.receivers),
        counts=counts,
        status=status,
        STATUSES=STATUSES,
        problem=problem,
        truncated=len(rows) >= LIST_LIMIT,
        flash=flash,
        flash_kind=flash_kind,
    )


@router.get("/notifications", **guarded("notifications.read"))
async def notifications_page(request: Request, actor: SignedIn) -> Response:
    return await _notifications(request, actor)


@router.post("/notifications/{notification_id}/retry", **guarded("notifications.retry"))
async def notification_retry(request: Request, notification_id: int, actor: SignedIn) -> Response:
    """The dead-letter list's Retry button: back in the queue, due now (audited by the notify service)."""
    form = await request.form()
    reason = str(form.get("reason") or "").strip() or None
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            await service.retry(
                session, notification_id=notification_id, actor=actor, clock=context.clock, reason=reason
            )
    except (NotFoundError, ConflictError, UsageError) as exc:
        return await _notifications(
            request, actor, status_code=status_for(exc), flash=exc.user_message, flash_kind="error"
        )
    return RedirectResponse(f"/notifications?retried={notification_id}", status_code=303)


@router.get("/oncall", **guarded("oncall.read"))
async def oncall_page(request: Request, actor: SignedIn) -> Response:
    context = app_context(request)
    async with context.sessions() as session:
        schedules = await oncall_now(session, response_context(request))
    return page(request, actor, "oncall.html", page="oncall", schedules=schedules)
