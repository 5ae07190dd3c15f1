"""Phase outputs: what each phase of the runbook requires, recorded by hand or by what happened.

:func:`record_output` is the typed-in output (audited); :func:`mark_output` records an output satisfied
by an event (roles filled, first update sent, report generated, a verified containment action) once;
:func:`refusal` is the error naming each missing output (and how to provide it) when a phase change
or the close is refused. The read model of the outputs is :func:`fictra.incidents.queries.output_views`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.clock import Clock
from fictra.errors import ConflictError, UsageError
from fictra.incidents.events import audit_change, log_event
from fictra.incidents.models import Incident, IncidentOutput
from fictra.incidents.phases import OUTPUTS, OutputSpec, how_to, output_spec
from fictra.incidents.queries import get_incident
from fictra.incidents.records import OPEN, clean_text, load_incident, require_open
from fictra.incidents.schemas import IncidentView, OutputView

__all__ = ["mark_output", "put_output", "record_output", "refusal", "spec_of"]


def spec_of(key: str) -> OutputSpec:
    """The output's definition; UsageError listing the output keys."""
    spec = output_spec(key)
    if spec is None:
        keys = ", ".join(o.key for o in OUTPUTS)
        raise UsageError(f"Output '{key}' is not an incident output; expected one of: {keys}.")
    return spec


async def put_output(
    session: AsyncSession,
    *,
    incident: Incident,
    spec: OutputSpec,
    status: str,
    text: str,
    source: str,
    actor: object,
    clock: Clock,
) -> dict[str, Any] | None:
    """Insert or replace the output row (and its timeline entry); returns the previous row's state
    (None when new). The caller writes the audit entry."""
    now = clock.now()
    row = (
        await session.execute(
            select(IncidentOutput).where(
                IncidentOutput.incident_id == incident.id, IncidentOutput.key == spec.key
            )
        )
    ).scalar_one_or_none()
    before = None
    if row is None:
        session.add(
            IncidentOutput(
                incident_id=incident.id,
                phase=spec.phase.value,
                key=spec.key,
                status=status,
                text=text,
                source=source,
                recorded_by=actor_name(actor),
                recorded_at=now,
            )
        )
    else:
        before = {"status": row.status, "text": row.text, "source": row.source}
        row.status, row.text, row.source = status, text, source
        row.recorded_by, row.recorded_at = actor_name(actor), now
    await session.flush()
    verb = "recorded as not required" if status == "not_required" else "recorded"
    await log_event(
        session,
        incident_id=incident.id,
        kind="output",
        actor=actor,
        clock=clock,
        text=f"{spec.title} {verb}: {text}",
        ref=source if source.startswith(("action:", "update:", "evidence:")) else None,
        details={"key": spec.key, "phase": spec.phase.value, "status": status, "source": source},
    )
    return before


async def record_output(
    session: AsyncSession,
    *,
    incident_id: int,
    key: str,
    text: str,
    actor: object,
    clock: Clock,
    source: str = "manual",
    not_required: bool = False,
) -> IncidentView:
    """Record (or replace) a phase output. Outputs of any phase may be recorded while the incident is
    open (containment often happens during detection). ``source`` names what produced it
    ("action:12" for a verified emergency action); ``not_required`` is allowed where the runbook makes
    the step conditional (escalation), and ``text`` is then the reason."""
    spec = spec_of(key)
    body = clean_text(text, what=f"'{key}' output" + (" reason" if not_required else ""))
    if spec.derived:
        raise ConflictError(f"Output '{key}' cannot be typed in: {how_to(spec)}.")
    if not_required and not spec.may_skip:
        raise ConflictError(
            f"Output '{key}' ({spec.title}) is always required; only "
            + ", ".join(o.key for o in OUTPUTS if o.may_skip)
            + " may be recorded as not required."
        )
    if not source or len(source) > 100:
        raise UsageError(f"Output source '{source[:40]}' must be 1-100 characters (e.g. 'action:12').")
    incident = await load_incident(session, incident_id)
    require_open(incident, "changed")
    status = "not_required" if not_required else "done"
    before = await put_output(
        session,
        incident=incident,
        spec=spec,
        status=status,
        text=body,
        source=source,
        actor=actor,
        clock=clock,
    )
    incident.updated_at = clock.now()
    await audit_change(
        session,
        actor=actor,
        action="incident.output",
        incident_id=incident_id,
        clock=clock,
        before={key: before} if before else None,
        after={key: {"status": status, "text": body, "source": source}},
    )
    return await get_incident(session, incident_id)


async def mark_output(
    session: AsyncSession,
    *,
    incident: Incident,
    key: str,
    text: str,
    source: str,
    actor: object,
    clock: Clock,
) -> bool:
    """Record an output satisfied by something that happened (roles filled, first update sent, report
    generated) unless it is already recorded; True when recorded now. Audited by the caller's action."""
    exists = (
        await session.execute(
            select(IncidentOutput.id).where(
                IncidentOutput.incident_id == incident.id, IncidentOutput.key == key
            )
        )
    ).first()
    if exists is not None or incident.status != OPEN:
        return False
    await put_output(
        session,
        incident=incident,
        spec=spec_of(key),
        status="done",
        text=text,
        source=source,
        actor=actor,
        clock=clock,
    )
    return True


def refusal(incident_id: int, verb: str, missing: list[OutputView]) -> ConflictError:
    """The refusal of a phase change or close, naming each missing output and how to provide it."""
    lines = "; ".join(f"{o.key} ({o.title}): {o.how}" for o in missing)
    return ConflictError(
        f"Incident {incident_id} cannot {verb}: {len(missing)} required output(s) missing — {lines}."
    )
