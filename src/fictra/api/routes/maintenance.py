"""The maintenance windows API (prefix /api/v1/maintenance).

GET    /maintenance?state=open|scheduled|active|ended|canceled   windows, newest first   maintenance.read
GET    /maintenance/{id}                  the window, its held alerts and events        maintenance.read
GET    /maintenance/{id}/log              the Maintenance Log (Markdown)                maintenance.read
POST   /maintenance                       create (scheduled, RRULE, or emergency)       maintenance.manage
POST   /maintenance/{id}/start            open a one-off window now                     maintenance.manage
POST   /maintenance/{id}/done             implementation done (no overrun reminder)     maintenance.manage
POST   /maintenance/{id}/entries          {kind: step|action|note, text}                maintenance.manage
POST   /maintenance/{id}/end              close now (holds released by the next run)    maintenance.manage
POST   /maintenance/{id}/cancel           {reason}                                      maintenance.manage
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.log import render_markdown
from fictra.maintenance.queries import MAX_LIMIT, get_window, list_windows
from fictra.maintenance.schemas import WindowDetail, WindowView
from fictra.maintenance.service import (
    add_entry,
    cancel_window,
    create_window,
    end_window,
    mark_done,
    start_window,
)

router = APIRouter(prefix="/api/v1/maintenance", tags=["maintenance"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
WindowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Maintenance window id.")]


def maintenance_config(request: Request) -> MaintenanceConfig:
    cfg = getattr(app_context(request).config_set, "maintenance", None)
    return cfg if isinstance(cfg, MaintenanceConfig) else MaintenanceConfig()


Config = Annotated[MaintenanceConfig, Depends(maintenance_config)]


class NewWindow(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    matchers: list[str] = Field(min_length=1, max_length=20)
    owner: str = Field(min_length=1, max_length=200)
    emergency: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 366)
    timezone: str = Field(default="UTC", max_length=64)
    rrule: str | None = Field(default=None, max_length=500)
    steps: list[str] = Field(default_factory=list, max_length=100)
    owner_change_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class Note(BaseModel):
    note: str = Field(default="", max_length=4000)


class Entry(BaseModel):
    kind: str = Field(pattern=r"^(step|action|note)$")
    text: str = Field(min_length=1, max_length=4000)


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


@router.get("", summary="Maintenance windows, newest first", **guarded("maintenance.read"))
async def windows_list(
    request: Request,
    session: DbSession,
    state: Annotated[str | None, Query(pattern=r"^(open|scheduled|active|ended|canceled)$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[WindowView]:
    return await list_windows(session, now=app_context(request).clock.now(), state=state, limit=limit)


@router.get("/{window_id}", summary="One window: held alerts and events", **guarded("maintenance.read"))
async def windows_show(request: Request, session: DbSession, window_id: WindowId) -> WindowDetail:
    return await get_window(session, window_id=window_id, now=app_context(request).clock.now())


@router.get(
    "/{window_id}/log",
    summary="The Maintenance Log (Markdown)",
    response_class=PlainTextResponse,
    **guarded("maintenance.read"),
)
async def windows_log(request: Request, session: DbSession, window_id: WindowId) -> PlainTextResponse:
    text = await render_markdown(session, window_id=window_id, now=app_context(request).clock.now())
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.post("", status_code=201, summary="Create a maintenance window", **guarded("maintenance.manage"))
async def windows_create(
    request: Request, session: DbSession, config: Config, actor: CurrentActor, body: NewWindow
) -> WindowView:
    return await create_window(
        session,
        title=body.title,
        description=body.description,
        matchers=body.matchers,
        owner=body.owner,
        emergency=body.emergency,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        duration=None if body.duration_minutes is None else timedelta(minutes=body.duration_minutes),
        timezone=body.timezone,
        rrule=body.rrule,
        steps=body.steps,
        owner_change_id=body.owner_change_id,
        actor=actor,
        clock=app_context(request).clock,
        config=config,
    )


@router.post("/{window_id}/start", summary="Open a one-off window now", **guarded("maintenance.manage"))
async def windows_start(
    request: Request, session: DbSession, actor: CurrentActor, window_id: WindowId
) -> WindowView:
    return await start_window(session, window_id=window_id, actor=actor, clock=app_context(request).clock)


@router.post("/{window_id}/done", summary="Implementation done", **guarded("maintenance.manage"))
async def windows_done(
    request: Request, session: DbSession, actor: CurrentActor, window_id: WindowId, body: Note
) -> WindowView:
    clock = app_context(request).clock
    return await mark_done(session, window_id=window_id, actor=actor, clock=clock, note=body.note)


@router.post(
    "/{window_id}/entries",
    status_code=201,
    summary="Log a step, action or note",
    **guarded("maintenance.manage"),
)
async def windows_entry(
    request: Request, session: DbSession, actor: CurrentActor, window_id: WindowId, body: Entry
) -> WindowDetail:
    clock = app_context(request).clock
    await add_entry(session, window_id=window_id, kind=body.kind, text=body.text, actor=actor, clock=clock)
    return await get_window(session, window_id=window_id, now=clock.now())


@router.post("/{window_id}/end", summary="Close the window now", **guarded("maintenance.manage"))
async def windows_end(
    request: Request, session: DbSession, actor: CurrentActor, window_id: WindowId, body: Note
) -> WindowView:
    clock = app_context(request).clock
    return await end_window(session, window_id=window_id, actor=actor, clock=clock, note=body.note)


@router.post("/{window_id}/cancel", summary="Cancel the window", **guarded("maintenance.manage"))
async def windows_cancel(
    request: Request, session: DbSession, actor: CurrentActor, window_id: WindowId, body: Reason
) -> WindowView:
    clock = app_context(request).clock
    return await cancel_window(session, window_id=window_id, actor=actor, clock=clock, reason=body.reason)
