"""Impact assessment and risk, computed from the catalogue, the detection config, alerts and incidents.

Impact: the components named, the components depending on them (catalogue ``depends_on``, transitively),
the monitors and rules watching them (:func:`watchers`, from the config set's monitors and rules),
firing alerts labelled with one of them, and open incidents on them (a callable of the incidents
domain). Risk: the questionnaire's answers (each yes raises the floor) and a computed score (highest
criticality, type, recent failed changes on the same components, a slot outside every allowed window);
the higher level wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.changes.config import RISKS, ChangesConfig
from fictra.changes.models import ChangeRequest
from fictra.changes.ports import IncidentsOn
from fictra.changes.records import event, load
from fictra.changes.service import ChangeRefused
from fictra.changes.windows import outside_windows
from fictra.clock import Clock
from fictra.errors import UsageError

__all__ = ["assess", "dependents", "watchers"]

_LABELS = ("contract", "endpoint", "component", "integration")


def dependents(cfg: ChangesConfig, names: Sequence[str]) -> list[str]:
    """Components that depend on any of ``names``, directly or transitively (``names`` excluded)."""
    found: set[str] = set()
    frontier = set(names)
    while frontier:
        nxt = {
            other
            for other, comp in cfg.components.items()
            if set(comp.depends_on) & frontier and other not in found and other not in names
        }
        found |= nxt
        frontier = nxt
    return sorted(found)


def watchers(monitors: Sequence[object], rules: Sequence[object]) -> dict[str, list[str]]:
    """{contract name: [monitor/rule names watching it]} from the config set's monitors (``contracts``)
    and event rules (``contract``)."""
    out: dict[str, list[str]] = {}
    for m in monitors:
        for c in getattr(m, "contracts", None) or ():
            out.setdefault(str(c), []).append(f"monitor:{getattr(m, 'name', '?')}")
    for r in rules:
        c = getattr(r, "contract", None)
        if c:
            out.setdefault(str(c), []).append(f"rule:{getattr(r, 'name', '?')}")
    return out


async def _alerts_on(session: AsyncSession, names: set[str]) -> list[dict[str, Any]]:
    rows = (await session.execute(select(Alert).where(Alert.status == "firing"))).scalars()
    out = []
    for a in rows:
        hit = sorted({v for k, v in (a.labels or {}).items() if k in _LABELS and v in names})
        if hit:
            out.append({"id": a.id, "severity": a.severity, "summary": a.summary, "components": hit})
    return out


async def _recent_failures(session: AsyncSession, change: ChangeRequest, *, since: Any) -> list[int]:
    stmt = select(ChangeRequest).where(
        ChangeRequest.state.in_(("failed", "rolled_back")), ChangeRequest.updated_at >= since,
        ChangeRequest.id != change.id,
    )  # fmt: skip
    mine = set(change.components)
    return [c.id for c in (await session.execute(stmt)).scalars() if set(c.components) & mine]


def _level(score: int, cfg: ChangesConfig) -> str:
    s = cfg.scoring
    if score >= s.critical_at:
        return "critical"
    if score >= s.high_at:
        return "high"
    if score >= s.medium_at:
        return "medium"
    return "low"


async def assess(
    session: AsyncSession,
    *,
    cfg: ChangesConfig,
    change_id: int,
    answers: Mapping[str, bool],
    watched_by: Mapping[str, Sequence[str]],
    incidents_on: IncidentsOn | None,
    actor: object,
    clock: Clock,
) -> ChangeRequest:
    """Compute and store the impact and the risk of a change in assessment (emergency: authorization)."""
    change = await load(session, change_id, lock=True)
    if change.state not in ("draft", "assessment", "authorization"):
        raise ChangeRefused(f"Change {change_id} is {change.state}; assess it before it is scheduled.")
    qids = [q.id for q in cfg.questions]
    unanswered = [q for q in qids if q not in answers]
    unknown = sorted(set(answers) - set(qids))
    if unanswered or unknown:
        raise UsageError(
            f"Risk questionnaire of change {change_id}: unanswered {', '.join(unanswered) or 'none'}; "
            f"unknown {', '.join(unknown) or 'none'} (questions: {', '.join(qids)})."
        )
    names = list(change.components)
    deps = dependents(cfg, names)
    everything = set(names) | set(deps)
    watching = sorted({w for n in sorted(everything) for w in watched_by.get(n, ())})
    incidents = await incidents_on(session, sorted(everything)) if incidents_on is not None else []
    impact: dict[str, Any] = {
        "components": names,
        "dependents": deps,
        "watched_by": watching,
        "alerts": await _alerts_on(session, everything),
        "incidents": [
            {"id": i.id, "severity": i.severity, "title": i.title, "components": list(i.components)}
            for i in incidents
        ],
    }
    sc = cfg.scoring
    crit = max((cfg.components[n].criticality for n in everything if n in cfg.components),
               key=RISKS.index, default="low")  # fmt: skip
    failed = await _recent_failures(session, change, since=clock.now() - sc.failed_lookback)
    outside = (
        change.planned_start is not None
        and change.planned_end is not None
        and outside_windows(cfg, change.planned_start, change.planned_end)
    )
    parts = {
        "criticality": sc.criticality[crit],
        "type": sc.type.get(change.type, 0),
        "failed_changes": sc.failed_change * min(len(failed), 2),
        "outside_window": sc.outside_window if outside else 0,
    }
    score = sum(parts.values())
    computed = _level(score, cfg)
    floor = max((q.if_yes for q in cfg.questions if answers.get(q.id)), key=RISKS.index, default="low")
    level = max(computed, floor, key=RISKS.index)
    change.impact = impact
    change.risk = {
        "level": level, "computed": computed, "questionnaire": floor, "score": score, "parts": parts,
        "answers": dict(answers), "failed_changes": failed, "highest_criticality": crit,
    }  # fmt: skip
    await event(
        session, change, kind="assessed", actor=actor, clock=clock,
        text=f"risk {level} (computed {computed}, score {score}; questionnaire {floor}); "
        f"{len(deps)} dependent component(s), {len(impact['alerts'])} firing alert(s), "
        f"{len(impact['incidents'])} open incident(s)",
        details={"risk": change.risk, "impact": impact},
    )  # fmt: skip
    return change
