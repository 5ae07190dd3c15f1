"""What the emergency action pages share: the platform's action runner (when this console has one), the
emergency config in force, and the parsing of a parameters field."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from fictra.api.deps import app_context
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.runner import ActionRunner
from fictra.errors import ConflictError, UsageError

STATUSES = (
    "proposed", "approved", "executing", "scheduled", "submitted", "included", "confirmed", "verified",
    "failed", "cancelled",
)  # fmt: skip
TRACK = ("submitted", "included", "confirmed", "verified")


def runner_of(request: Request) -> ActionRunner | None:
    """The platform's action runner, found where the emergency API looks (``app.state.emergency_runner``,
    else ``platform.emergency``); None when the console runs without one."""
    found = getattr(request.app.state, "emergency_runner", None)
    if isinstance(found, ActionRunner):
        return found
    platform = app_context(request).platform
    found = getattr(platform, "emergency", None) if platform is not None else None
    return found if isinstance(found, ActionRunner) else None


def action_config(request: Request) -> EmergencyConfig:
    """The runner's config when it runs (the one in force), else the config set's (read at start-up)."""
    runner = runner_of(request)
    if runner is not None:
        return runner.config
    return app_context(request).config_set.emergency


def no_runner() -> ConflictError:
    return ConflictError(
        "The action runner is not running here (this console has no platform with emergency actions): "
        "start the platform with `fictra up`, or use `fictra actions ...` on the platform host."
    )


def parse_params(text: str) -> dict[str, Any]:
    raw = text.strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"Parameters '{raw[:60]}' are not JSON ({exc.msg} at character {exc.pos}); "
            'write an object such as {"endpoint": "node1"}, or leave them empty.'
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"Parameters must be a JSON object ({{...}}), not {type(value).__name__}.")
    return value
