"""Corrective-action tasks: owners are users, due dates in the future, done after close, the output they
satisfy, and every change audited."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.incidents import service, tasks

from .helpers import LEAD, add_users, audit, events


async def test_task_lifecycle_and_corrective_actions_output(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await add_users(sessions, clock, "carol", "dave")
    due = clock.now() + timedelta(days=14)
    async with sessions.begin() as s:
        view = await service.declare(s, title="t", severity="P1", category="oracle", actor=LEAD, clock=clock)
        assert view.output("corrective_actions").status == "missing"
        task = await tasks.add_task(
            s,
            incident_id=view.id,
            title="Second oracle source",
            owner="carol",
            due_at=due,
            actor=LEAD,
            clock=clock,
        )
        view = await service.get_incident(s, view.id)
    out = view.output("corrective_actions")
    assert out.status == "done" and out.source == "tasks"
    assert out.text == f"#{task.id} Second oracle source (owner carol, due {due.date()})"
    async with sessions.begin() as s:
        done = await tasks.update_task(
            s, incident_id=view.id, task_id=task.id, status="done", owner="dave", actor=LEAD, clock=clock
        )
    assert done.status == "done" and done.done_at == clock.now() and done.owner == "dave"
    entries = await audit(sessions, "incident.task")
    assert [e["action"] for e in entries] == ["incident.task.add", "incident.task.update"]
    assert entries[1]["before"]["status"] == "open" and entries[1]["after"]["status"] == "done"
    texts = [t for k, t in await events(sessions, view.id) if k == "task"]
    assert texts[-1] == f"Corrective action #{task.id} updated: owner dave, status done"
    async with sessions.begin() as s:
        await tasks.delete_task(
            s, incident_id=view.id, task_id=task.id, actor=LEAD, clock=clock, reason="dup"
        )
        assert await tasks.list_tasks(s, incident_id=view.id) == []
        assert (await service.get_incident(s, view.id)).output("corrective_actions").status == "missing"


async def test_task_refusals(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    await add_users(sessions, clock, "carol")
    soon = clock.now() + timedelta(days=1)
    async with sessions.begin() as s:
        view = await service.declare(s, title="t", severity="P1", category="oracle", actor=LEAD, clock=clock)
        iid = view.id
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"owner": "nobody"}, NotFoundError, "No user 'nobody'"),
        ({"title": ""}, UsageError, "The task title is empty"),
        ({"due_at": clock.now() - timedelta(hours=1)}, UsageError, "is in the past; give a future date"),
        ({"due_at": datetime(2030, 1, 1)}, UsageError, "has no time zone; add Z or"),
    ]
    for kwargs, error, message in cases:
        args: dict[str, object] = {"title": "fix", "owner": "carol", "due_at": soon, **kwargs}
        async with sessions.begin() as s:
            with pytest.raises(error, match=message):
                await tasks.add_task(s, incident_id=iid, actor=LEAD, clock=clock, **args)  # type: ignore[arg-type]
    async with sessions.begin() as s:
        with pytest.raises(NotFoundError, match=f"Incident {iid} has no task 5"):
            await tasks.update_task(s, incident_id=iid, task_id=5, status="done", actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match=r"Task status 'blocked' is not one of: open, done\."):
            await tasks.update_task(s, incident_id=iid, task_id=5, status="blocked", actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="Nothing to change"):
            await tasks.update_task(s, incident_id=iid, task_id=5, actor=LEAD, clock=clock)
    assert await audit(sessions, "incident.task") == []
    await _close_everything(sessions, clock, iid)
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match="a closed incident cannot be given new tasks"):
            await tasks.add_task(
                s, incident_id=iid, title="x", owner="carol", due_at=soon, actor=LEAD, clock=clock
            )
        [task] = await tasks.list_tasks(s, incident_id=iid)
        # corrective actions outlive the incident: marked done after close
        assert (
            await tasks.update_task(
                s, incident_id=iid, task_id=task.id, status="done", actor=LEAD, clock=clock
            )
        ).status == "done"


async def _close_everything(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, iid: int) -> None:
    from fictra.incidents.phases import OUTPUTS

    async with sessions.begin() as s:
        await tasks.add_task(
            s,
            incident_id=iid,
            title="fix",
            owner="carol",
            due_at=clock.now() + timedelta(days=3),
            actor=LEAD,
            clock=clock,
        )
        for spec in OUTPUTS:
            if not spec.derived and spec.key != "classification":
                await service.record_output(
                    s, incident_id=iid, key=spec.key, text="ok", actor=LEAD, clock=clock
                )
        await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
