"""The alert-response API (prefix /api/v1).

GET  /alerts/{id}/response          SLA clocks, escalation level and timeline     alerts.read
POST /alerts/{id}/escalate          {"note"}                                       alerts.escalate
POST /alerts/{id}/snooze            {"duration": "30m", "note"}                    alerts.snooze
POST /alerts/{id}/assign            {"assignee", "note"}                           alerts.assign
GET  /sla/breaches?since=&until=    breaches counted per severity, team and kind   alerts.read
GET  /oncall?schedule=              who is on call now and next, per schedule      oncall.read
GET  /oncall/overrides              current and future overrides                   oncall.read
POST /oncall/overrides              {"schedule","person","starts_at","ends_at"}    oncall.manage
POST /oncall/{schedule}/ical        body: an iCalendar file                        oncall.manage
GET  /escalation-policies           the policies in force                          alerts.read
GET  /silences?expired=false        silences                                       silences.read
POST /silences                      {"matchers","starts_at","ends_at","comment"}   silences.manage
DELETE /silences/{id}               expire now                                     silences.manage
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.config.fields import parse_duration
from fictra.errors import UsageError
from fictra.response import actions
from fictra.response.context import ResponseContext
from fictra.response.overrides import OverrideView, create_override, import_ical, list_overrides
from fictra.response.queries import OncallView, ResponseView, oncall_now, response_of
from fictra.response.silences import SilenceView, create_silence, expire_silence, list_silences
from fictra.response.sla import BreachCount, breach_report

router = APIRouter(prefix="/api/v1", tags=["response"])
CurrentActor = Annotated[Actor, Depends(current_actor)]


def response_context(request: Request) -> ResponseContext:
    """The running platform's response context, or one built from the app's config (cached)."""
    app_ctx = request.app.state.context
    found = getattr(app_ctx.platform, "response", None) if app_ctx.platform is not None else None
    if isinstance(found, ResponseContext):
        return found
    cached = getattr(request.app.state, "response_context", None)
    if isinstance(cached, ResponseContext):
        return cached
    loaded = app_ctx.config_set
    ctx = ResponseContext(config=loaded.response, clock=app_ctx.clock, alert_policy=loaded.policy)
    request.app.state.response_context = ctx
    return ctx


Response = Annotated[ResponseContext, Depends(response_context)]


class NoteBody(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


class SnoozeBody(NoteBody):
    duration: str = Field(description="How long to hold escalation: '30m', '2h' (at most 7d).")


class AssignBody(NoteBody):
    assignee: str = Field(min_length=1, max_length=200)


class SilenceBody(BaseModel):
    matchers: list[str] = Field(min_length=1, max_length=20)
    starts_at: datetime | None = None
    ends_at: datetime
    comment: str = Field(min_length=1, max_length=4000)


class OverrideBody(BaseModel):
    schedule: str
    person: str
    starts_at: datetime
    ends_at: datetime


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise UsageError(f"'{name}' has value '{value.isoformat()}' without a time zone; add Z or +00:00.")


@router.get("/alerts/{alert_id}/response", summary="SLA clocks and escalation", **guarded("alerts.read"))
async def alert_response(session: DbSession, rctx: Response, alert_id: int) -> ResponseView:
    return await response_of(session, rctx, alert_id=alert_id)


@router.post("/alerts/{alert_id}/escalate", summary="Escalate now", **guarded("alerts.escalate"))
async def alert_escalate(
    session: DbSession, rctx: Response, actor: CurrentActor, alert_id: int, body: NoteBody | None = None
) -> ResponseView:
    await actions.escalate_now(
        session, alert_id=alert_id, actor=actor, ctx=rctx, note=body.note if body else None
    )
    return await response_of(session, rctx, alert_id=alert_id)


@router.post("/alerts/{alert_id}/snooze", summary="Hold escalation for a while", **guarded("alerts.snooze"))
async def alert_snooze(
    session: DbSession, rctx: Response, actor: CurrentActor, alert_id: int, body: SnoozeBody
) -> ResponseView:
    try:
        duration = parse_duration(body.duration)
    except ValueError as exc:
        raise UsageError(f"Snooze 'duration': {exc}.") from None
    await actions.snooze(session, alert_id=alert_id, actor=actor, ctx=rctx, duration=duration, note=body.note)
    return await response_of(session, rctx, alert_id=alert_id)


@router.post("/alerts/{alert_id}/assign", summary="Assign to a person", **guarded("alerts.assign"))
async def alert_assign(
    session: DbSession, rctx: Response, actor: CurrentActor, alert_id: int, body: AssignBody
) -> ResponseView:
    await actions.assign(
        session, alert_id=alert_id, actor=actor, ctx=rctx, assignee=body.assignee, note=body.note
    )
    return await response_of(session, rctx, alert_id=alert_id)


@router.get("/sla/breaches", summary="SLA breaches per severity, team and kind", **guarded("alerts.read"))
async def sla_breaches(
    session: DbSession,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
) -> list[BreachCount]:
    _aware("since", since)
    _aware("until", until)
    return await breach_report(session, since=since, until=until)


@router.get("/oncall", summary="Who is on call now and next", **guarded("oncall.read"))
async def oncall(
    session: DbSession, rctx: Response, schedule: Annotated[str | None, Query(max_length=200)] = None
) -> list[OncallView]:
    return await oncall_now(session, rctx, schedule=schedule)


@router.get("/oncall/overrides", summary="Current and future overrides", **guarded("oncall.read"))
async def oncall_overrides(
    session: DbSession, rctx: Response, schedule: Annotated[str | None, Query(max_length=200)] = None
) -> list[OverrideView]:
    return await list_overrides(session, schedule=schedule, now=rctx.clock.now())


@router.post("/oncall/overrides", summary="Put someone on call for a while", **guarded("oncall.manage"))
async def oncall_override(
    session: DbSession, rctx: Response, actor: CurrentActor, body: OverrideBody
) -> OverrideView:
    _aware("starts_at", body.starts_at)
    _aware("ends_at", body.ends_at)
    return await create_override(
        session,
        config=rctx.config,
        schedule=body.schedule,
        person=body.person,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        actor=actor,
        clock=rctx.clock,
    )


@router.post("/oncall/{schedule}/ical", summary="Import shifts from iCalendar", **guarded("oncall.manage"))
async def oncall_ical(
    request: Request, session: DbSession, rctx: Response, actor: CurrentActor, schedule: str
) -> list[OverrideView]:
    data = await request.body()
    if len(data) > 2_000_000:
        raise UsageError(f"iCalendar file of {len(data)} bytes is too large (at most 2 MB).")
    return await import_ical(
        session, config=rctx.config, schedule=schedule, data=data, actor=actor, clock=rctx.clock
    )


@router.get("/escalation-policies", summary="Escalation policies in force", **guarded("alerts.read"))
async def escalation_policies(rctx: Response) -> dict[str, Any]:
    return rctx.config.escalation.model_dump(mode="json")


@router.get("/silences", summary="Silences", **guarded("silences.read"))
async def silences_list(
    session: DbSession, rctx: Response, expired: Annotated[bool, Query()] = False
) -> list[SilenceView]:
    return await list_silences(session, now=rctx.clock.now(), include_expired=expired)


@router.post("/silences", summary="Create a silence", status_code=201, **guarded("silences.manage"))
async def silences_create(
    session: DbSession, rctx: Response, actor: CurrentActor, body: SilenceBody
) -> SilenceView:
    _aware("starts_at", body.starts_at)
    _aware("ends_at", body.ends_at)
    return await create_silence(
        session,
        matchers=body.matchers,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        comment=body.comment,
        actor=actor,
        clock=rctx.clock,
    )


@router.delete("/silences/{silence_id}", summary="Expire a silence now", **guarded("silences.manage"))
async def silences_expire(
    session: DbSession, rctx: Response, actor: CurrentActor, silence_id: int
) -> SilenceView:
    return await expire_silence(session, silence_id=silence_id, actor=actor, clock=rctx.clock)


__all__ = ["router"]
