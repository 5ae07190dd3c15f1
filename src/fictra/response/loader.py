"""The response section of the config set: ``escalation.yaml``, ``oncall.yaml``, ``routing.yaml`` and
``inhibit.yaml`` parsed together (every problem collected as ``file:key.path: message``), and the check of
their references (people, schedules, and the receivers of the receivers section).

Nothing here reads a file: :mod:`fictra.platform.config_set` reads each file once and hands the documents
to :func:`parse_response`, then the parsed receivers to :func:`response_references`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from fictra.config.problems import problems_of
from fictra.config.sections import Document, broken
from fictra.response.config import (
    EscalationConfig,
    InhibitConfig,
    OncallConfig,
    Route,
    RoutingConfig,
)

FILES = ("escalation.yaml", "oncall.yaml", "routing.yaml", "inhibit.yaml")


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

    def with_receivers(self, receivers: dict[str, list[str]] | None) -> ResponseConfig:
        """This config bound to the receivers section (receiver -> channel names; None: no receivers.yaml)."""
        return replace(self, receivers=receivers)


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


def _model(doc: Document | None, model: type[BaseModel], problems: list[str]) -> Any:
    if doc is None:
        return model()
    if broken(doc):
        return None
    try:
        return model.model_validate({} if doc.data is None else doc.data)
    except ValidationError as exc:
        problems.extend(problems_of(doc.rel, [], exc))
        return None


def parse_response(docs: Sequence[Document], problems: list[str]) -> ResponseConfig | None:
    """The four response files (defaults for each absent one); None when any is broken."""
    by_name = {doc.rel: doc for doc in docs}
    before = len(problems)
    models: tuple[type[BaseModel], ...] = (EscalationConfig, OncallConfig, RoutingConfig, InhibitConfig)
    loaded = [_model(by_name.get(name), model, problems) for name, model in zip(FILES, models, strict=True)]
    if len(problems) > before or any(x is None for x in loaded):
        return None
    escalation, oncall, routing, inhibit = loaded
    return ResponseConfig(escalation, oncall, routing, inhibit)
