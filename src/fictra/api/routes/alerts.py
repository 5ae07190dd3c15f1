"""The alerts API: list with filters, show with timeline, acknowledge, resolve, add a note.

GET  /api/v1/alerts?severity=P0&status=firing&confirmation=confirmed&label=feed=GOLD&since=...&until=...
GET  /api/v1/alerts/{ref}                 (id or fingerprint prefix; evidence, history and timeline)
POST /api/v1/alerts/{id}/acknowledge      {"note": "..."}        alerts.acknowledge
POST /api/v1/alerts/{id}/resolve          {"note": "..."}        alerts.resolve
POST /api/v1/alerts/{id}/notes            {"text": "..."}        alerts.note
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fictra.alerting import actions
from fictra.alerting.findings import Severity
from fictra.alerting.models import AlertStatus, Confirmation
from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertDetail, AlertView
from fictra.api.deps import Context, DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.errors import UsageError

router = APIRouter(prefix="/api/v1", tags=["alerts"])
CurrentActor = Annotated[Actor, Depends(current_actor)]


class AlertPage(BaseModel):
    items: list[AlertView]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page; null on the last page.")


class ActionBody(BaseModel):
    note: str | None = Field(default=None, max_length=actions.NOTE_MAX, description="Optional note.")


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=actions.NOTE_MAX, description="The note.")


def _labels(raw: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"Label filter '{item}' is not key=value (e.g. label=feed=GOLD).")
        labels[key.strip()] = value.strip()
    return labels


@router.get("/alerts", summary="List alerts, most recently seen first", **guarded("alerts.read"))
async def alerts_list(
    session: DbSession,
    severity: Annotated[list[Severity] | None, Query(description="P0..P3; repeat for several")] = None,
    status: Annotated[AlertStatus | None, Query(description="firing or resolved")] = None,
    confirmation: Annotated[Confirmation | None, Query(description="provisional/confirmed/retracted")] = None,
    label: Annotated[list[str] | None, Query(description="key=value; repeat, all must match")] = None,
    since: Annotated[datetime | None, Query(description="last seen at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="last seen before (ISO 8601)")] = None,
    network: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AlertPage:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise UsageError(
                f"Query '{name}' has value '{value.isoformat()}' without a time zone; add Z or +00:00."
            )
    items = await list_alerts(
        session,
        status=status.value if status else None,
        severity=[s.value for s in severity] if severity else None,
        confirmation=confirmation.value if confirmation else None,
        labels=_labels(label or []),
        since=since,
        until=until,
        network=network,
        limit=limit,
        offset=offset,
    )
    return AlertPage(
        items=items, limit=limit, offset=offset, next_offset=offset + limit if len(items) == limit else None
    )


@router.get("/alerts/{ref}", summary="One alert with evidence and timeline", **guarded("alerts.read"))
async def alerts_show(session: DbSession, ref: Annotated[str, Field(max_length=64)]) -> AlertDetail:
    return await get_alert(session, ref)


@router.post(
    "/alerts/{alert_id}/acknowledge", summary="Acknowledge a firing alert", **guarded("alerts.acknowledge")
)
async def alerts_acknowledge(
    session: DbSession, context: Context, actor: CurrentActor, alert_id: int, body: ActionBody | None = None
) -> AlertDetail:
    await actions.acknowledge(
        session, alert_id=alert_id, actor=actor, clock=context.clock, note=body.note if body else None
    )
    return await get_alert(session, str(alert_id))


@router.post(
    "/alerts/{alert_id}/resolve", summary="Resolve a firing alert by hand", **guarded("alerts.resolve")
)
async def alerts_resolve(
    session: DbSession, context: Context, actor: CurrentActor, alert_id: int, body: ActionBody | None = None
) -> AlertDetail:
    await actions.resolve(
        session, alert_id=alert_id, actor=actor, clock=context.clock, note=body.note if body else None
    )
    return await get_alert(session, str(alert_id))


@router.post("/alerts/{alert_id}/notes", summary="Add a note to the timeline", **guarded("alerts.note"))
async def alerts_note(
    session: DbSession, context: Context, actor: CurrentActor, alert_id: int, body: NoteBody
) -> AlertDetail:
    await actions.add_note(session, alert_id=alert_id, actor=actor, clock=context.clock, text=body.text)
    return await get_alert(session, str(alert_id))
