"""Load ``escalation.yaml``, ``oncall.yaml``, ``routing.yaml`` and ``inhibit.yaml`` with every problem
collected (``file:key.path: message``) and cross-references checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fictra.response.config import (
    EscalationConfig,
    InhibitConfig,
    OncallConfig,
    Route,
    RoutingConfig,
)
from fictra.rules.loader import ConfigProblems, _problems, _read_yaml


@dataclass
class ResponseConfig:
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    oncall: OncallConfig = field(default_factory=OncallConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    inhibit: InhibitConfig = field(default_factory=InhibitConfig)
    receivers: dict[str, list[str]] | None = None  # receivers.yaml: receiver -> channel names; None: no file

    def channels(self, receiver: str) -> list[str]:
        """The outbox channels of a receiver (``log`` when unknown: delivery dead-letters it, visibly)."""
        return (self.receivers or {}).get(receiver) or ["log"]


def _load(config_dir: Path, name: str, model: type[BaseModel], problems: list[str]) -> Any:
    path = config_dir / name
    if not path.is_file():
        return model()
    raw = _read_yaml(path, name, problems)
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        problems.extend(_problems(name, [], exc))
        return None


def _routes(route: Route, path: str) -> list[tuple[str, Route]]:
    out = [(path, route)]
    for i, child in enumerate(route.routes):
        out.extend(_routes(child, f"{path}.routes.{i}"))
    return out


def check_references(cfg: ResponseConfig) -> list[str]:
    problems: list[str] = []
    people = cfg.oncall.people
    schedules = {s.name for s in cfg.oncall.schedules}
    for i, sched in enumerate(cfg.oncall.schedules):
        for j, rot in enumerate(sched.rotations):
            for k, person in enumerate(rot.people):
                if person not in people:
                    problems.append(
                        f"oncall.yaml:schedules.{i}.rotations.{j}.people.{k}: unknown person '{person}' "
                        "(add it under people:)"
                    )
    for i, policy in enumerate(cfg.escalation.policies):
        for j, level in enumerate(policy.levels):
            where = f"escalation.yaml:policies.{i}.levels.{j}.notify"
            for k, person in enumerate(level.notify.people):
                if person not in people:
                    problems.append(
                        f"{where}.people.{k}: unknown person '{person}' (see oncall.yaml people:)"
                    )
            named = level.notify.schedule
            if named is not None and named not in schedules and cfg.oncall.schedules:
                problems.append(f"{where}.schedule: unknown schedule '{named}' (see oncall.yaml schedules:)")
    if cfg.receivers is None:
        return problems
    known = ", ".join(sorted(cfg.receivers)) or "none"
    for path, route in _routes(cfg.routing.route, "route"):
        if route.receiver is not None and route.receiver not in cfg.receivers:
            problems.append(
                f"routing.yaml:{path}.receiver: unknown receiver '{route.receiver}' "
                f"(receivers.yaml has: {known})"
            )
    for name, contact in cfg.oncall.people.items():
        if contact.receiver not in cfg.receivers:
            problems.append(
                f"oncall.yaml:people.{name}.receiver: unknown receiver '{contact.receiver}' "
                f"(receivers.yaml has: {known})"
            )
    return problems


def _receivers(config_dir: Path) -> dict[str, list[str]] | None:
    """receiver -> channel names from receivers.yaml (its own problems are reported by fictra.notify)."""
    from fictra.errors import ConfigError
    from fictra.notify.config import load_receivers

    path = config_dir / "receivers.yaml"
    if not path.is_file():
        return None
    try:
        loaded = load_receivers(path)
    except ConfigError:
        return None
    return {r.name: [c.key for c in r.channels] for r in loaded.receivers}


def response_problems(config_dir: Path) -> list[str]:
    """Every problem of the response files (for ``fictra config check`` and the platform's loader)."""
    try:
        load_response_config(config_dir)
    except ConfigProblems as exc:
        return list(exc.problems)
    return []


def load_response_config(config_dir: Path) -> ResponseConfig:
    """Raise :class:`ConfigProblems` listing every problem; defaults for missing files."""
    problems: list[str] = []
    loaded = [
        _load(config_dir, "escalation.yaml", EscalationConfig, problems),
        _load(config_dir, "oncall.yaml", OncallConfig, problems),
        _load(config_dir, "routing.yaml", RoutingConfig, problems),
        _load(config_dir, "inhibit.yaml", InhibitConfig, problems),
    ]
    if problems:
        raise ConfigProblems(config_dir, problems)
    escalation, oncall, routing, inhibit = loaded
    cfg = ResponseConfig(escalation, oncall, routing, inhibit, receivers=_receivers(config_dir))
    problems = check_references(cfg)
    if problems:
        raise ConfigProblems(config_dir, problems)
    return cfg
