"""The monitors API: the monitors and CEL rules of the loaded config, with their firing alerts.

GET /api/v1/monitors           every monitor and rule: name, type, enabled, description, firing alerts
GET /api/v1/monitors/{name}    one, with its full (secret-free) configuration
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertStatus, Confirmation
from fictra.api.context import AppContext
from fictra.api.deps import Context, DbSession, guarded
from fictra.errors import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["monitors"])


class MonitorView(BaseModel):
    name: str
    type: str
    enabled: bool
    description: str
    firing: dict[str, int]


class MonitorDetail(MonitorView):
    config: dict[str, Any]


def _configured(context: AppContext) -> list[Any]:
    config = context.loaded_config
    return [*config.monitors, *config.rules] if config is not None else []


async def _firing(session: AsyncSession, monitor: str | None = None) -> dict[str, dict[str, int]]:
    stmt = (
        select(Alert.monitor, Alert.severity, func.count())
        .where(Alert.status == AlertStatus.FIRING.value, Alert.confirmation != Confirmation.RETRACTED.value)
        .group_by(Alert.monitor, Alert.severity)
    )
    if monitor is not None:
        stmt = stmt.where(Alert.monitor == monitor)
    counts: dict[str, dict[str, int]] = {}
    for name, severity, count in await session.execute(stmt):
        counts.setdefault(str(name), {})[str(severity)] = int(count)
    return counts


def _view(item: Any, firing: dict[str, dict[str, int]]) -> MonitorView:
    return MonitorView(
        name=item.name,
        type=str(item.type),
        enabled=bool(item.enabled),
        description=item.description,
        firing=firing.get(item.name, {}),
    )


@router.get("/monitors", summary="Monitors and rules of the loaded config", **guarded("monitors.read"))
async def monitors_list(session: DbSession, context: Context) -> list[MonitorView]:
    firing = await _firing(session)
    return [_view(m, firing) for m in _configured(context)]


@router.get("/monitors/{name}", summary="One monitor with its configuration", **guarded("monitors.read"))
async def monitors_show(
    session: DbSession, context: Context, name: Annotated[str, Path(max_length=200)]
) -> MonitorDetail:
    for item in _configured(context):
        if item.name == name:
            view = _view(item, await _firing(session, name))
            return MonitorDetail(**view.model_dump(), config=item.model_dump(mode="json"))
    raise NotFoundError(
        f"No monitor or rule named '{name}' in the loaded config. List them: GET /api/v1/monitors."
    )
