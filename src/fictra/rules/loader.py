"""Load and check the config-as-code directory. ``fictra config check`` and the service use this loader.

Layout (paths relative to the config directory)::

    network.yaml          the chain and its RPC endpoints           (required)
    alerting.yaml         acknowledgement deadlines, history bound  (optional)
    roles.yaml            role -> permissions of the console/API     (optional; fictra.auth.permissions)
    escalation.yaml, oncall.yaml, routing.yaml, inhibit.yaml            (optional; fictra.response.loader)
    monitors/*.yaml       ``monitors:`` list of monitor families
    rules/*.yaml          ``rules:`` list of CEL event/tx rules

Every problem is collected, each as ``file:key.path: message``, and reported together in one
:class:`ConfigProblems`. Nothing is written, whatever the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from fictra.alerting.config import AlertingConfig, AlertPolicy
from fictra.chain.manifest import Manifest
from fictra.errors import ConfigError
from fictra.monitors.config import MONITOR_TYPES, MonitorConfig
from fictra.rules.config import EventRuleConfig
from fictra.rules.network import NetworkConfig
from fictra.rules.refs import check_references

RESPONSE_FILES = ("escalation.yaml", "oncall.yaml", "routing.yaml", "inhibit.yaml")  # fictra.response

_MONITOR = TypeAdapter[MonitorConfig](MonitorConfig)
MONITOR_TYPE_NAMES = sorted(str(get_args(m.model_fields["type"].annotation)[0]) for m in MONITOR_TYPES)


_TOP_FILES = (
    "network.yaml",
    "alerting.yaml",
    "roles.yaml",
    "receivers.yaml",
    "incidents.yaml",
    "emergency.yaml",
    *RESPONSE_FILES,
)


class ConfigProblems(ConfigError):
    """Every problem found in a config directory; ``problems`` lists them as ``file:key.path: message``."""

    def __init__(self, config_dir: Path, problems: list[str]) -> None:
        self.problems = problems
        plural = "s" if len(problems) != 1 else ""
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"Config in '{config_dir}' has {len(problems)} problem{plural}:\n{listing}")


@dataclass
class Sourced:
    """A validated item and where it came from (for cross-reference messages)."""

    file: str
    path: str
    item: Any


@dataclass
class LoadedConfig:
    config_dir: Path
    network: NetworkConfig
    alerting: AlertingConfig
    monitors: list[MonitorConfig] = field(default_factory=list)
    rules: list[EventRuleConfig] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def policy(self) -> AlertPolicy:
        return AlertPolicy.from_config(self.alerting)

    def redacted(self) -> dict[str, Any]:
        """The effective config as plain data, secrets redacted (for ``fictra config show``)."""
        from fictra.rules.network import redact_secret_ref

        network = self.network.model_dump(mode="json")
        for ep in network["endpoints"]:
            ep["url"] = redact_secret_ref(ep["url"])
        return {
            "network": network,
            "alerting": self.alerting.model_dump(mode="json"),
            "monitors": [m.model_dump(mode="json") for m in self.monitors],
            "rules": [r.model_dump(mode="json") for r in self.rules],
        }


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", "?")
        return f"unknown monitor type '{tag}'; expected one of: {', '.join(MONITOR_TYPE_NAMES)}"
    if kind == "union_tag_not_found":
        return f"missing key 'type'; expected one of: {', '.join(MONITOR_TYPE_NAMES)}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, str | int | float | bool) and kind != "value_error":
        return f"invalid value {value!r}: {msg}"
    return msg


def _problems(rel: str, prefix: list[str], exc: ValidationError, tag: str | None = None) -> list[str]:
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        if tag is not None and loc and loc[0] == tag:
            loc = loc[1:]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
        path = ".".join(prefix + loc) or "(top)"
        out.append(f"{rel}:{path}: {_message(err)}")
    return out


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, rel: str, problems: list[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{rel}: cannot read file ({exc.strerror})")
        return None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
        context = ""
        if exc.context and exc.context_mark is not None and exc.problem:
            cm = exc.context_mark
            context = f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        problems.append(f"{rel}:{where}: YAML syntax error: {exc.problem or exc.context}{context}")
    except yaml.YAMLError as exc:
        problems.append(f"{rel}: YAML error: {exc}")
    return None


def _model(path: Path, rel: str, model: type[BaseModel], problems: list[str]) -> Any:
    raw = _read_yaml(path, rel, problems)
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        problems.extend(_problems(rel, [], exc))
        return None


def _list_file(path: Path, rel: str, key: str, problems: list[str]) -> list[Sourced]:
    raw = _read_yaml(path, rel, problems)
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append(f"{rel}:(top): expected a mapping with a '{key}:' list")
        return []
    for extra in sorted(set(raw) - {key}):
        problems.append(f"{rel}:{extra}: unknown key (this file holds only '{key}:')")
    items = raw.get(key) or []
    if not isinstance(items, list):
        problems.append(f"{rel}:{key}: expected a list")
        return []
    out = []
    for i, item in enumerate(items):
        prefix = [key, str(i)]
        try:
            if key == "rules":
                out.append(Sourced(rel, ".".join(prefix), EventRuleConfig.model_validate(item)))
            else:
                tag = item.get("type") if isinstance(item, dict) else None
                out.append(Sourced(rel, ".".join(prefix), _MONITOR.validate_python(item)))
        except ValidationError as exc:
            problems.extend(_problems(rel, prefix, exc, tag=str(tag) if key != "rules" else None))
    return out


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_config(config_dir: Path, *, manifest: Manifest | None = None) -> LoadedConfig:
    """Load, validate and cross-check ``config_dir``; raise :class:`ConfigProblems` listing every problem."""
    problems: list[str] = []
    notes: list[str] = []
    if not config_dir.is_dir():
        raise ConfigProblems(
            config_dir, [f"{config_dir}: not a directory (set --config-dir or FICTRA_CONFIG_DIR)"]
        )
    network_path = config_dir / "network.yaml"
    network: NetworkConfig | None = None
    if network_path.is_file():
        network = _model(network_path, "network.yaml", NetworkConfig, problems)
    else:
        problems.append("network.yaml: file is missing (the chain and its RPC endpoints)")
    alerting = AlertingConfig()
    if (config_dir / "alerting.yaml").is_file():
        alerting = _model(config_dir / "alerting.yaml", "alerting.yaml", AlertingConfig, problems) or alerting
    if (config_dir / "roles.yaml").is_file():
        from fictra.auth.permissions import role_problems  # imports this module

        problems.extend(role_problems(config_dir / "roles.yaml")[1])
    if (config_dir / "receivers.yaml").is_file():
        from fictra.notify.config import receiver_problems  # imports this module

        problems.extend(receiver_problems(config_dir / "receivers.yaml"))
    from fictra.response.loader import response_problems  # imports this module

    problems.extend(response_problems(config_dir))
    from fictra.incidents.config import incidents_problems  # imports this module

    problems.extend(incidents_problems(config_dir))
    from fictra.emergency.config import emergency_problems  # imports this module

    problems.extend(emergency_problems(config_dir)[1])
    for entry in sorted(config_dir.iterdir()):
        unknown_yaml = entry.is_file() and entry.suffix in {".yaml", ".yml"} and entry.name not in _TOP_FILES
        unknown_dir = (
            entry.is_dir() and not entry.name.startswith(".") and entry.name not in ("monitors", "rules")
        )
        if unknown_yaml or unknown_dir:
            problems.append(
                f"{entry.name}{'/' if unknown_dir else ''}: unknown config entry; expected network.yaml, "
                "alerting.yaml, monitors/*.yaml and rules/*.yaml"
            )
    items: list[Sourced] = []
    for sub, key in (("monitors", "monitors"), ("rules", "rules")):
        for path in _yaml_files(config_dir / sub):
            items.extend(_list_file(path, f"{sub}/{path.name}", key, problems))
    problems.extend(check_references(items, network=network, manifest=manifest, notes=notes))
    if problems or network is None:
        raise ConfigProblems(config_dir, problems)
    return LoadedConfig(
        config_dir=config_dir,
        network=network,
        alerting=alerting,
        monitors=[s.item for s in items if not isinstance(s.item, EventRuleConfig)],
        rules=[s.item for s in items if isinstance(s.item, EventRuleConfig)],
        notes=notes,
    )
