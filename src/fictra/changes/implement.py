"""Implementation: the steps as a checklist (who, when, note); on-chain steps proposed as emergency
actions through a callable (their state shown from another callable); verification by CEL checks over
chain values read through a callable, and manual sign-offs; a failed verification offers the rollback,
whose steps run the same way (then ``rollback`` → rolled_back).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.changes.models import ChangeRequest
from fictra.changes.ports import ProposeAction, ReadValues
from fictra.changes.records import event, load, steps_of
from fictra.changes.service import ChangeRefused
from fictra.clock import Clock
from fictra.errors import UsageError
from fictra.rules.cel import compile_expression

__all__ = ["complete_step", "run_step", "verify"]

_PHASE_STATE = {"implement": ("implementing",), "rollback": ("implementing", "failed")}


async def _step(session: AsyncSession, change: ChangeRequest, phase: str, position: int) -> Any:
    if change.state not in _PHASE_STATE[phase]:
        raise ChangeRefused(f"Change {change.id} is {change.state}; {phase} steps run while "
                            f"{' or '.join(_PHASE_STATE[phase])}.")  # fmt: skip
    for s in await steps_of(session, change.id, phase=phase):
        if s.position == position:
            return s
    raise UsageError(f"Change {change.id} has no {phase} step {position}.")


async def run_step(
    session: AsyncSession, *, change_id: int, phase: str, position: int, propose: ProposeAction,
    actor: object, clock: Clock,
) -> int:  # fmt: skip
    """Propose the emergency action of an on-chain step (``propose_action``); returns the action id."""
    change = await load(session, change_id, lock=True)
    step = await _step(session, change, phase, position)
    if step.action_kind is None or step.action_params is None:
        raise UsageError(f"Step {position} of change {change_id} is manual; mark it done instead.")
    if step.action_id is not None:
        raise ChangeRefused(
            f"Step {position} of change {change_id} already proposed action {step.action_id}."
        )
    reason = f"change {change.id}: {change.title} — {phase} step {position}: {step.text}"
    step.action_id = await propose(
        session, step.action_kind, dict(step.action_params), reason, change.id, actor
    )
    await event(
        session, change, kind="step_proposed", actor=actor, clock=clock,
        text=f"{actor_name(actor)} proposed {step.action_kind} (action {step.action_id}) for {phase} "
        f"step {position}",
        details={"phase": phase, "position": position, "action_id": step.action_id},
    )  # fmt: skip
    return int(step.action_id)


async def complete_step(
    session: AsyncSession, *, change_id: int, phase: str, position: int, note: str | None,
    actor: object, clock: Clock,
) -> ChangeRequest:  # fmt: skip
    """Tick a step off the checklist (who, when, note)."""
    change = await load(session, change_id, lock=True)
    step = await _step(session, change, phase, position)
    if step.done_at is not None:
        raise ChangeRefused(f"Step {position} of change {change_id} was done by {step.done_by}.")
    step.done_by, step.done_at, step.note = actor_name(actor), clock.now(), note
    await event(
        session, change, kind="step_done", actor=actor, clock=clock,
        text=f"{actor_name(actor)} did {phase} step {position}: {step.text}" + (f" ({note})" if note else ""),
        details={"phase": phase, "position": position, "note": note},
    )  # fmt: skip
    return change


async def verify(
    session: AsyncSession, *, change_id: int, read_values: ReadValues, signoffs: dict[str, bool],
    actor: object, clock: Clock,
) -> ChangeRequest:  # fmt: skip
    """Run every automated check (CEL over the values read now) and record the manual sign-offs given;
    the result passes when every check is true. A failed result lets ``fail`` then ``rollback`` run."""
    change = await load(session, change_id, lock=True)
    if change.state != "implementing":
        raise ChangeRefused(f"Change {change_id} is {change.state}; it is verified while implementing.")
    values = dict(await read_values())
    results: list[dict[str, Any]] = []
    for check in change.verification:
        if check.get("manual"):
            ok = signoffs.get(check["name"])
            results.append({"name": check["name"], "manual": True, "ok": ok, "by": actor_name(actor)})
            continue
        try:
            out = compile_expression(check["expr"]).execute(values)
            ok, error = out is True, None if isinstance(out, bool) else f"returned {out!r}, not a bool"
        except Exception as exc:  # a failed evaluation is a failed check, reported
            ok, error = False, f"{type(exc).__name__}: {exc}"
        results.append({"name": check["name"], "expr": check["expr"], "ok": ok, "error": error})
    passed = all(r["ok"] is True for r in results)
    change.verification_result = {
        "passed": passed, "at": clock.now().isoformat(), "values": {k: str(v) for k, v in values.items()},
        "results": results,
    }  # fmt: skip
    failed = [r["name"] for r in results if r["ok"] is not True]
    await event(
        session, change, kind="verified", actor=actor, clock=clock,
        text="verification passed" if passed else f"verification failed: {', '.join(failed)}; "
        "the rollback plan is offered",
        details={"verification": change.verification_result},
    )  # fmt: skip
    return change
