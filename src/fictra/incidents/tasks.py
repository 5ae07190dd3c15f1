"""Corrective actions as tracked tasks: title, owner, due date, open/done.

At least one task with an owner and a due date satisfies the post-incident output ``corrective_actions``.
Tasks are added and removed while the incident is open; they can be updated (done, new owner or due
date) after it closes too, since corrective actions usually outlive the incident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.errors import NotFoundError, UsageError
from fictra.incidents.events import audit_change, log_event
from fictra.incidents.models import IncidentTask
from fictra.incidents.records import check_user, clean_text, load_incident, require_open
from fictra.incidents.schemas import TaskView

__all__ = ["TASK_STATUSES", "add_task", "delete_task", "list_tasks", "update_task"]

TASK_STATUSES = ("open", "done")


def _due(value: datetime, now: datetime) -> datetime:
    if value.tzinfo is None:
        raise UsageError(f"Task due date '{value.isoformat()}' has no time zone; add Z or +00:00.")
    if value < now:
        raise UsageError(f"Task due date {value.isoformat()} is in the past; give a future date.")
    return value


def _state(task: IncidentTask) -> dict[str, object]:
    return {
        "title": task.title,
        "owner": task.owner,
        "due_at": task.due_at.isoformat(),
        "status": task.status,
    }


async def _task(session: AsyncSession, incident_id: int, task_id: int) -> IncidentTask:
    task = await session.get(IncidentTask, task_id, populate_existing=True)
    if task is None or task.incident_id != incident_id:
        raise NotFoundError(
            f"Incident {incident_id} has no task {task_id}; see `fictra incidents show {incident_id}`."
        )
    return task


async def add_task(
    session: AsyncSession,
    *,
    incident_id: int,
    title: str,
    owner: str,
    due_at: datetime,
    actor: object,
    clock: Clock,
) -> TaskView:
    """Add a corrective-action task owned by an existing user, due in the future."""
    name = clean_text(title, what="task title", limit=500)
    incident = await load_incident(session, incident_id)
    require_open(incident, "given new tasks")
    who = await check_user(session, owner)
    now = clock.now()
    task = IncidentTask(
        incident_id=incident_id,
        title=name,
        owner=who,
        due_at=_due(due_at, now),
        status="open",
        created_by=_actor(actor),
        created_at=now,
    )
    session.add(task)
    await session.flush()
    await log_event(
        session,
        incident_id=incident_id,
        kind="task",
        actor=actor,
        clock=clock,
        text=f"Corrective action #{task.id} added: {name} (owner {who}, due {task.due_at.date()})",
        ref=f"task:{task.id}",
        details={"task_id": task.id, "change": "added", **_state(task)},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.task.add",
        incident_id=incident_id,
        clock=clock,
        after=_state(task),
    )
    return TaskView.model_validate(task)


def _actor(actor: object) -> str:
    from fictra.audit.service import actor_name

    return actor_name(actor)


async def update_task(
    session: AsyncSession,
    *,
    incident_id: int,
    task_id: int,
    actor: object,
    clock: Clock,
    status: str | None = None,
    owner: str | None = None,
    due_at: datetime | None = None,
    title: str | None = None,
) -> TaskView:
    """Change a task's status (open/done), owner, due date or title."""
    if status is None and owner is None and due_at is None and title is None:
        raise UsageError("Nothing to change: give a status, owner, due date or title.")
    if status is not None and status not in TASK_STATUSES:
        raise UsageError(f"Task status '{status}' is not one of: {', '.join(TASK_STATUSES)}.")
    await load_incident(session, incident_id)
    task = await _task(session, incident_id, task_id)
    before = _state(task)
    now = clock.now()
    if title is not None:
        task.title = clean_text(title, what="task title", limit=500)
    if owner is not None:
        task.owner = await check_user(session, owner)
    if due_at is not None:
        task.due_at = _due(due_at, now)
    if status is not None and status != task.status:
        task.status = status
        task.done_at = now if status == "done" else None
    after = _state(task)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return TaskView.model_validate(task)
    await session.flush()
    listing = ", ".join(f"{k} {v}" for k, v in changed.items())
    await log_event(
        session,
        incident_id=incident_id,
        kind="task",
        actor=actor,
        clock=clock,
        text=f"Corrective action #{task.id} updated: {listing}",
        ref=f"task:{task.id}",
        details={"task_id": task.id, "change": "updated", **changed},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.task.update",
        incident_id=incident_id,
        clock=clock,
        before={"task_id": task.id, **before},
        after={"task_id": task.id, **after},
    )
    return TaskView.model_validate(task)


async def delete_task(
    session: AsyncSession,
    *,
    incident_id: int,
    task_id: int,
    actor: object,
    clock: Clock,
    reason: str | None = None,
) -> None:
    """Remove a task added by mistake (open incidents only)."""
    incident = await load_incident(session, incident_id)
    require_open(incident, "changed")
    task = await _task(session, incident_id, task_id)
    before = _state(task)
    await session.delete(task)
    await session.flush()
    await log_event(
        session,
        incident_id=incident_id,
        kind="task",
        actor=actor,
        clock=clock,
        text=f"Corrective action #{task_id} removed: {before['title']}" + (f" ({reason})" if reason else ""),
        ref=f"task:{task_id}",
        details={"task_id": task_id, "change": "removed"},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.task.delete",
        incident_id=incident_id,
        clock=clock,
        before={"task_id": task_id, **before},
        reason=reason,
    )


async def list_tasks(session: AsyncSession, *, incident_id: int) -> list[TaskView]:
    await load_incident(session, incident_id)
    rows = await session.execute(
        select(IncidentTask).where(IncidentTask.incident_id == incident_id).order_by(IncidentTask.id)
    )
    return [TaskView.model_validate(t) for t in rows.scalars()]
