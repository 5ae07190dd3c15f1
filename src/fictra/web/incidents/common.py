"""What the incident pages share: the titles the templates show, the small parsers of form values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fictra.api.context import AppContext
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.phases import CATEGORIES, PHASES, SEVERITIES

PHASE_TITLES = {
    "detection": "Detection",
    "response": "Response",
    "recovery": "Recovery",
    "post_incident": "Post-incident",
    "closed": "Closed",
}
CATEGORY_TITLES = {
    "smart_contract": "smart contract",
    "security": "security",
    "market": "market",
    "infrastructure": "infrastructure",
    "oracle": "oracle",
    "compliance": "compliance",
}
ROLE_TITLES = {
    "commander": "Incident commander",
    "scribe": "Scribe",
    "liaison": "Communications liaison",
    "responder": "Responder",
}


def as_int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def age(since: datetime, now: datetime) -> str:
    """``3d 4h``, ``2h 05m`` or ``12m`` since ``since``."""
    seconds = max(0, int((now - aware(since)).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def templating() -> dict[str, Any]:
    return {
        "PHASES": [p.value for p in PHASES],
        "PHASE_TITLES": PHASE_TITLES,
        "CATEGORIES": CATEGORIES,
        "CATEGORY_TITLES": CATEGORY_TITLES,
        "INCIDENT_SEVERITIES": SEVERITIES,
        "ROLE_TITLES": ROLE_TITLES,
        "age": age,
    }


def incidents_config(context: AppContext) -> IncidentsConfig:
    """The incidents section of the config set read at start-up (never the YAML again)."""
    return context.config_set.incidents
