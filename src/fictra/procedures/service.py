"""Procedure runs: open a run for a due time, record automated results, sign off manual steps, settle.

Every state change is audited in the caller's transaction (:func:`fictra.audit.service.record`); a step's
evidence document is stored with its SHA-256, and the hash is what the audit entry carries. Alerts (a
failed automated step, a missed run) are :class:`~fictra.alerting.findings.Finding` values handed to
``ingest``, the alert pipeline's ingest function the caller passes in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.audit.canonical import dumps, jsonable
from fictra.audit.service import actor_name, record
from fictra.auth.actor import Actor
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError
from fictra.procedures.checks import CheckResult
from fictra.procedures.config import ManualStep, Procedure
from fictra.procedures.models import DONE, Outcome, ProcedureRun, ProcedureStep, StepResult

__all__ = [
    "MONITOR_PREFIX",
    "Ingest",
    "get_run",
    "mark_missed",
    "open_run",
    "record_result",
    "settle",
    "sign_off",
    "steps_of",
]

Ingest = Callable[[AsyncSession, Sequence[Finding]], Awaitable[object]]
MONITOR_PREFIX = "procedure:"
MAX_NOTE = 4000


def _sha(doc: Any) -> str:
    return hashlib.sha256(dumps(doc).encode()).hexdigest()


async def get_run(session: AsyncSession, *, run_id: int) -> ProcedureRun:
    run = await session.get(ProcedureRun, run_id)
    if run is None:
        raise NotFoundError(f"Procedure run {run_id} does not exist; see `fictra procedures list`.")
    return run


async def steps_of(session: AsyncSession, *, run_id: int) -> list[ProcedureStep]:
    return list(
        (
            await session.execute(
                select(ProcedureStep).where(ProcedureStep.run_id == run_id).order_by(ProcedureStep.position)
            )
        ).scalars()
    )


async def open_run(
    session: AsyncSession, *, procedure: Procedure, due_at: datetime, clock: Clock, actor: object
) -> tuple[ProcedureRun, bool]:
    """The run of ``procedure`` for ``due_at``, created with its steps pending when there is none yet
    (idempotent per (procedure, due_at)); returns (run, created)."""
    existing = (
        await session.execute(
            select(ProcedureRun).where(
                ProcedureRun.procedure == procedure.name, ProcedureRun.due_at == due_at
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    now = clock.now()
    run = ProcedureRun(
        procedure=procedure.name,
        title=procedure.title,
        due_at=due_at,
        deadline=due_at + procedure.grace,
        started_at=now,
        outcome=Outcome.OPEN.value,
        owner=procedure.owner,
    )
    session.add(run)
    await session.flush()
    for position, step in enumerate(procedure.steps):
        session.add(
            ProcedureStep(
                run_id=run.id,
                position=position,
                name=step.name,
                kind=step.kind,
                title=step.title,
                result=StepResult.PENDING.value,
                updated_at=now,
            )
        )
    await session.flush()
    await record(
        session,
        actor=actor,
        action="procedure.run.open",
        target=f"procedure_run:{run.id}",
        after={"procedure": procedure.name, "due_at": due_at, "deadline": run.deadline, "owner": run.owner},
        clock=clock,
    )
    return run, True


async def _step(session: AsyncSession, *, run_id: int, name: str) -> ProcedureStep:
    step = (
        await session.execute(
            select(ProcedureStep).where(ProcedureStep.run_id == run_id, ProcedureStep.name == name)
        )
    ).scalar_one_or_none()
    if step is None:
        raise NotFoundError(f"Procedure run {run_id} has no step '{name}'.")
    return step


async def record_result(
    session: AsyncSession,
    *,
    run: ProcedureRun,
    procedure: Procedure,
    step_name: str,
    result: CheckResult,
    clock: Clock,
    ingest: Ingest | None,
    network: str,
) -> ProcedureStep:
    """Record an automated or report step's result and evidence (hash audited); a failed automated step
    raises its configured alert through ``ingest``."""
    cfg = procedure.step(step_name)
    step = await _step(session, run_id=run.id, name=step_name)
    if cfg is None or isinstance(cfg, ManualStep):
        raise UsageError(f"Step '{step_name}' of procedure '{procedure.name}' is not automated.")
    evidence = jsonable({"ok": result.ok, "summary": result.summary, "data": result.data})
    digest = _sha(evidence)
    if cfg.kind == "report":
        outcome = StepResult.REPORTED
    else:
        outcome = StepResult.PASSED if result.ok else StepResult.FAILED
    step.result = outcome.value
    step.summary = result.summary[:2000]
    step.evidence = evidence
    step.evidence_sha256 = digest
    step.updated_at = clock.now()
    await record(
        session,
        actor="system",
        action="procedure.step.result",
        target=f"procedure_run:{run.id}",
        after={"step": step_name, "result": outcome.value, "evidence_sha256": digest},
        clock=clock,
    )
    if outcome is StepResult.FAILED and ingest is not None and cfg.kind == "automated":
        await ingest(
            session,
            [
                Finding(
                    monitor=f"{MONITOR_PREFIX}{procedure.name}",
                    severity=cfg.alert_severity,
                    summary=f"{procedure.title}: {cfg.title} failed: {result.summary}"[:500],
                    labels={"procedure": procedure.name, "step": step_name, "condition": "step_failed"},
                    network=network,
                    evidence={"run_id": run.id, "due_at": run.due_at.isoformat(), "sha256": digest},
                )
            ],
        )
    return step


async def sign_off(
    session: AsyncSession,
    *,
    run_id: int,
    step_name: str,
    procedure: Procedure,
    actor: Actor,
    note: str | None,
    clock: Clock,
) -> ProcedureStep:
    """Sign off a manual step. Refused (PermissionDeniedError) unless ``actor`` holds one of the step's
    ``signoff_roles``; refused (ConflictError) on a run already completed or missed, or a signed step."""
    run = await get_run(session, run_id=run_id)
    cfg = procedure.step(step_name)
    if cfg is None:
        raise NotFoundError(f"Procedure '{procedure.name}' has no step '{step_name}'.")
    if not isinstance(cfg, ManualStep):
        raise UsageError(f"Step '{step_name}' is {cfg.kind}, not manual: only manual steps are signed off.")
    allowed = set(cfg.signoff_roles)
    if not allowed & set(actor.roles):
        raise PermissionDeniedError(
            f"{actor_name(actor)} (roles: {', '.join(actor.roles) or 'none'}) may not sign off step "
            f"'{step_name}' of '{procedure.name}'; it needs one of the roles: {', '.join(sorted(allowed))}."
        )
    if run.outcome in (Outcome.COMPLETED.value, Outcome.MISSED.value):
        raise ConflictError(
            f"Procedure run {run_id} is {run.outcome}; its steps can no longer be signed off."
        )
    step = await _step(session, run_id=run_id, name=step_name)
    if step.result == StepResult.SIGNED.value:
        raise ConflictError(f"Step '{step_name}' of run {run_id} was already signed off by {step.signed_by}.")
    if note is not None and (len(note) > MAX_NOTE or "\x00" in note):
        raise UsageError(f"The note must be at most {MAX_NOTE} characters without NUL.")
    now = clock.now()
    step.result = StepResult.SIGNED.value
    step.signed_by = actor_name(actor)
    step.signed_at = now
    step.note = note
    evidence = jsonable({"signed_by": step.signed_by, "roles": list(actor.roles), "at": now, "note": note})
    step.evidence = evidence
    step.evidence_sha256 = _sha(evidence)
    step.updated_at = now
    await record(
        session,
        actor=actor,
        action="procedure.step.signoff",
        target=f"procedure_run:{run_id}",
        after={"step": step_name, "evidence_sha256": step.evidence_sha256},
        reason=note,
        clock=clock,
    )
    await settle(session, run=run, clock=clock)
    return step


async def settle(session: AsyncSession, *, run: ProcedureRun, clock: Clock) -> str:
    """Set an open run's outcome from its steps: ``failed`` as soon as an automated step failed,
    ``completed`` once every step is done; otherwise it stays open."""
    if run.outcome != Outcome.OPEN.value:
        return run.outcome
    results = [s.result for s in await steps_of(session, run_id=run.id)]
    if StepResult.FAILED.value in results:
        outcome = Outcome.FAILED
    elif all(r in DONE for r in results):
        outcome = Outcome.COMPLETED
    else:
        return run.outcome
    run.outcome = outcome.value
    run.finished_at = clock.now()
    await record(
        session,
        actor="system",
        action=f"procedure.run.{outcome.value}",
        target=f"procedure_run:{run.id}",
        after={"procedure": run.procedure, "due_at": run.due_at, "outcome": outcome.value},
        clock=clock,
    )
    return run.outcome


async def mark_missed(
    session: AsyncSession,
    *,
    procedures: Sequence[Procedure],
    clock: Clock,
    ingest: Ingest | None,
    network: str,
) -> list[ProcedureRun]:
    """Every open run past its deadline becomes ``missed`` and raises its missed-run alert (the
    procedure's ``missed_severity``). Returns the runs marked."""
    now = clock.now()
    by_name = {p.name: p for p in procedures}
    runs = list(
        (
            await session.execute(
                select(ProcedureRun)
                .where(ProcedureRun.outcome == Outcome.OPEN.value, ProcedureRun.deadline <= now)
                .order_by(ProcedureRun.id)
            )
        ).scalars()
    )
    findings: list[Finding] = []
    for run in runs:
        pending = [s.name for s in await steps_of(session, run_id=run.id) if s.result not in DONE]
        run.outcome = Outcome.MISSED.value
        run.finished_at = now
        await record(
            session,
            actor="system",
            action="procedure.run.missed",
            target=f"procedure_run:{run.id}",
            after={
                "procedure": run.procedure,
                "due_at": run.due_at,
                "deadline": run.deadline,
                "pending": pending,
            },
            clock=clock,
        )
        proc = by_name.get(run.procedure)
        severity = proc.missed_severity if proc is not None else Severity.P2
        findings.append(
            Finding(
                monitor=f"{MONITOR_PREFIX}{run.procedure}",
                severity=severity,
                summary=f"{run.title} not completed by {run.deadline.isoformat()}; pending: "
                f"{', '.join(pending)}"[:500],
                labels={"procedure": run.procedure, "condition": "missed"},
                network=network,
                evidence={"run_id": run.id, "due_at": run.due_at.isoformat(), "pending": pending},
            )
        )
    if findings and ingest is not None:
        await ingest(session, findings)
    return runs
