"""The notifications API (outbox, dead letters, manual retry) and the inbound alert endpoints.

GET  /api/v1/notifications?status=dead&alert_id=&limit=&before_id=   notifications.read
GET  /api/v1/notifications/{id}             (with its delivery attempts) notifications.read
POST /api/v1/notifications/{id}/retry       {"reason": "..."}            notifications.retry
POST /api/v1/inbound/alertmanager           Alertmanager webhook v3/v4   inbound.write
POST /api/v1/inbound/alerts                 {"alerts": [...]}            inbound.write

Alertmanager set-up (alertmanager.yml), with an API token scoped to inbound.write:

    receivers:
      - name: fictra
        webhook_configs:
          - url: http://fictra-ops:8000/api/v1/inbound/alertmanager
            send_resolved: true
            http_config:
              authorization: {type: Bearer, credentials_file: /etc/alertmanager/fictra.token}
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.api.context import AppContext
from fictra.api.deps import Context, DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.notify import inbound, service
from fictra.notify.config import InboundConfig
from fictra.notify.inbound import OnChanges
from fictra.notify.models import NotificationStatus
from fictra.notify.writer import InboundWriter

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

router = APIRouter(prefix="/api/v1", tags=["notifications"])
CurrentActor = Annotated[Actor, Depends(current_actor)]


class NotificationView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    idempotency_key: str
    receiver: str
    channel: str
    alert_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    message: dict[str, Any]


class AttemptView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    attempt: int
    at: datetime
    outcome: str
    error: str | None
    duration_ms: int


class NotificationDetail(NotificationView):
    delivery_attempts: list[AttemptView]


class NotificationPage(BaseModel):
    items: list[NotificationView]
    counts: dict[str, int] = Field(
        description="Notifications per status (pending, sending, delivered, dead)."
    )
    next_before_id: int | None = Field(description="Pass as before_id for the next page; null on the last.")


class RetryBody(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


@router.get("/notifications", summary="Notifications, newest first (dead letters: status=dead)",
            **guarded("notifications.read"))  # fmt: skip
async def notifications_list(
    session: DbSession,
    status: Annotated[
        NotificationStatus | None, Query(description="pending, sending, delivered or dead")
    ] = None,
    alert_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> NotificationPage:
    rows = await service.list_notifications(
        session, status=status.value if status else None, alert_id=alert_id, limit=limit, before_id=before_id
    )
    return NotificationPage(
        items=[NotificationView.model_validate(r) for r in rows],
        counts=await service.count_by_status(session),
        next_before_id=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/notifications/{notification_id}", summary="One notification and its delivery attempts",
            **guarded("notifications.read"))  # fmt: skip
async def notifications_show(session: DbSession, notification_id: int) -> NotificationDetail:
    row = await service.get_notification(session, notification_id=notification_id)
    attempts = await service.list_attempts(session, notification_id=notification_id)
    return NotificationDetail.model_validate(
        {**NotificationView.model_validate(row).model_dump(), "delivery_attempts": attempts}
    )


@router.post("/notifications/{notification_id}/retry", summary="Send a dead notification again",
             **guarded("notifications.retry"))  # fmt: skip
async def notifications_retry(
    session: DbSession,
    context: Context,
    actor: CurrentActor,
    notification_id: int,
    body: RetryBody | None = None,
) -> NotificationView:
    row = await service.retry(
        session,
        notification_id=notification_id,
        actor=actor,
        clock=context.clock,
        reason=body.reason if body else None,
    )
    return NotificationView.model_validate(row)


def _writer(request: Request, context: AppContext) -> InboundWriter:
    """One writer per app: concurrent inbound requests share its transactions."""
    writer = getattr(request.app.state, "inbound_writer", None)
    if not isinstance(writer, InboundWriter):
        config = context.loaded_config
        platform = context.platform
        auto_declare = config is not None and config.receivers.inbound.auto_declare
        writer = request.app.state.inbound_writer = InboundWriter(
            sessions=context.sessions,
            clock=context.clock,
            policy=config.policy if config is not None else None,
            on_changes=_pipeline_hook(platform, auto_declare=auto_declare) if platform is not None else None,
        )
    return writer


def _pipeline_hook(platform: Platform, *, auto_declare: bool) -> OnChanges:
    """The pipeline's later stages (routing, notifications) for inbound alerts: every stage but the
    incidents' auto-declare, unless receivers.yaml ``inbound.auto_declare`` is true."""

    async def hook(changes: list[AlertChange], session: AsyncSession) -> None:
        for stage in list(platform.stages):  # as attached when the batch runs
            if auto_declare or stage.name != "incidents.auto-declare":
                await stage.run(changes, session)

    return hook


def _inbound_config(context: AppContext) -> InboundConfig:
    config = context.loaded_config
    return config.receivers.inbound if config is not None else InboundConfig()


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its local ``$ref``s replaced by the definitions (no dangling component refs)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _with_body_schema(route: dict[str, Any]) -> dict[str, Any]:
    """``guarded(...)`` plus the request body's schema (the route reads the raw body itself)."""
    schema = inbound.AlertmanagerPayload.model_json_schema()
    inline = _inline(schema, schema.get("$defs", {}))
    body = {"required": True, "content": {"application/json": {"schema": inline}}}
    return {**route, "openapi_extra": {**route["openapi_extra"], "requestBody": body}}


@router.post("/inbound/alertmanager", summary="Prometheus Alertmanager webhook (payload versions 3 and 4)",
             **_with_body_schema(guarded("inbound.write")))  # fmt: skip
async def inbound_alertmanager(request: Request, context: Context) -> inbound.InboundResult:
    # the hot path: pydantic parses and validates the raw body in one pass (~8x cheaper than json.loads
    # and validating the Python objects); the errors are the usual 422 naming the body's keys
    try:
        payload = inbound.AlertmanagerPayload.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None
    findings, clears = inbound.from_alertmanager(payload, _inbound_config(context))
    return await _writer(request, context).submit(findings=findings, clears=clears)


@router.post("/inbound/alerts", summary="Generic JSON alerts", **guarded("inbound.write"))
async def inbound_alerts(
    request: Request, context: Context, payload: inbound.GenericPayload
) -> inbound.InboundResult:
    findings, clears = inbound.from_generic(payload, _inbound_config(context))
    return await _writer(request, context).submit(findings=findings, clears=clears)
