"""The runbook's incident phases as a state machine, and the outputs each phase requires.

detection -> response -> recovery -> post_incident -> closed. Advancing past a phase needs every output of
that phase; closing needs every output of every phase. Each output says how it is provided, so a refusal
can name what is missing and what to do about it. Some outputs are satisfied by what happens rather than
typed in (``auto``): classification at declaration, team activation when roles are filled, the initial
notification when the first stakeholder update goes out, containment when an emergency action is
verified, corrective actions by tracked tasks, the report when it is generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CATEGORIES",
    "OUTPUTS",
    "PHASES",
    "SEVERITIES",
    "OutputSpec",
    "Phase",
    "next_phase",
    "output_spec",
    "outputs_of",
]


class Phase(StrEnum):
    DETECTION = "detection"
    RESPONSE = "response"
    RECOVERY = "recovery"
    POST_INCIDENT = "post_incident"
    CLOSED = "closed"


PHASES: tuple[Phase, ...] = tuple(Phase)
SEVERITIES = ("P0", "P1", "P2", "P3")
CATEGORIES = ("smart_contract", "security", "market", "infrastructure", "oracle", "compliance")


@dataclass(frozen=True)
class OutputSpec:
    """``how`` is shown to the person who tries to advance without it; ``may_skip`` outputs can be
    recorded as "not required" with a reason; ``derived`` ones cannot be typed in (tasks satisfy them)."""

    key: str
    phase: Phase
    title: str
    how: str
    may_skip: bool = False
    derived: bool = False


def _o(phase: Phase, key: str, title: str, how: str, **kw: bool) -> OutputSpec:
    return OutputSpec(key=key, phase=phase, title=title, how=how, **kw)


_D, _R, _V, _P = Phase.DETECTION, Phase.RESPONSE, Phase.RECOVERY, Phase.POST_INCIDENT
_REC = "record it (fictra incidents output ID {key} --text ..., or POST /api/v1/incidents/ID/outputs)"

OUTPUTS: tuple[OutputSpec, ...] = (
    _o(_D, "triage", "Alert triage and verification", _REC),
    _o(_D, "impact_assessment", "Initial impact assessment", _REC),
    _o(_D, "classification", "Incident classification", "set at declaration (severity and category)"),
    _o(
        _D,
        "team_activation",
        "Response team activation",
        "assign an incident commander and at least one responder (fictra incidents role ID ...)",
    ),
    _o(
        _D,
        "initial_notification",
        "Initial stakeholder notification",
        "send the initial notification (fictra incidents update ID --template initial)",
    ),
    _o(
        _R,
        "containment",
        "Containment measures",
        "verify a containment action (e.g. pause_all) linked to the incident, or " + _REC,
    ),
    _o(_R, "root_cause_investigation", "Root cause investigation", _REC),
    _o(_R, "recovery_plan", "Recovery plan", _REC),
    _o(
        _R,
        "ongoing_communication",
        "Ongoing communication",
        "send a status update (fictra incidents update ID --template status), or " + _REC,
    ),
    _o(
        _R,
        "escalation",
        "Escalation",
        _REC + "; or record it as not required with the reason (--not-required)",
        may_skip=True,
    ),
    _o(_V, "component_restart", "Component restart", _REC),
    _o(_V, "data_verification", "Data verification", _REC),
    _o(_V, "service_restoration", "Service restoration", _REC),
    _o(_V, "performance_validation", "Performance validation", _REC),
    _o(_P, "analysis", "Comprehensive incident analysis", _REC),
    _o(_P, "root_cause", "Root cause documentation", _REC),
    _o(
        _P,
        "corrective_actions",
        "Corrective actions",
        "add at least one corrective-action task with an owner and a due date "
        "(fictra incidents task ID add ...)",
        derived=True,
    ),
    _o(_P, "preventive_measures", "Preventive measures", _REC),
    _o(_P, "report", "Incident report", "generate the report (fictra incidents report ID)"),
)
_BY_KEY = {o.key: o for o in OUTPUTS}


def outputs_of(phase: Phase | str) -> tuple[OutputSpec, ...]:
    return tuple(o for o in OUTPUTS if o.phase == Phase(phase))


def output_spec(key: str) -> OutputSpec | None:
    return _BY_KEY.get(key)


def next_phase(phase: Phase | str) -> Phase | None:
    """The phase after ``phase`` (None after closed)."""
    index = PHASES.index(Phase(phase))
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


def how_to(spec: OutputSpec) -> str:
    return spec.how.replace("{key}", spec.key)
