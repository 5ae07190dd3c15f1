"""``config/emergency.yaml``: the signers' keystores, approval-rule overrides, confirmations and the
automatic-response policies.

Paths may start with ``${data_dir}`` or ``${devnet_dir}`` (the platform's data directory and its
devnet directory), so the shipped config points at the keystores ``fictra devnet up`` writes and
``make run`` works from a fresh clone. Passphrases are secret references (``env:VAR``, ``file:path``),
never plain values. Problems are reported like every config file: ``emergency.yaml:key.path: message``,
every one at once (:class:`fictra.config.problems.ConfigProblems`, exit 2). A section of the config set
(:mod:`fictra.platform.config_set`): this module reads no file.

A policy's *enabled* state is not configured here: it lives in the database and changes only through
an approved ``policy_enable``/``policy_disable`` action, so every policy starts disabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fictra.config.fields import Duration
from fictra.config.problems import problems_of
from fictra.config.sections import Document, broken
from fictra.emergency.definitions import DEFINITIONS, ApprovalRule, validate_params
from fictra.errors import FictraError

__all__ = [
    "EmergencyConfig",
    "PolicyConfig",
    "SignerConfig",
    "expand_path",
    "parse_emergency",
]

FILE = "emergency.yaml"
Trigger = Literal["fired", "confirmed"]
_ROLES = (
    "security_officer", "technical_lead", "system_architect", "operations_manager", "compliance_officer",
    "first_level_support", "product_owner", "legal", "executive", "viewer", "admin",
)  # fmt: skip


class SignerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keystore: str = Field(
        min_length=1, description="V3 keystore JSON; may start with ${data_dir}/${devnet_dir}."
    )
    passphrase: str = Field(description="Secret reference to the passphrase: env:VAR or file:path.")
    role: str | None = Field(default=None, description="Manifest role whose address the key must hold.")
    address: str | None = Field(default=None, description="Or the expected address itself.")

    @field_validator("passphrase")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not value.startswith(("env:", "file:")) or len(value) < 6:
            raise ValueError("must be a secret reference: env:VAR or file:path (never the passphrase itself)")
        return value


class RuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=10, description="Approvals needed, from distinct people.")
    roles: list[str] = Field(min_length=1, description="Roles whose approval counts.")
    must_include: list[str] = Field(
        default_factory=list, description="Roles at least one approver must hold (e.g. operations_manager)."
    )
    ttl: Duration = Field(default=timedelta(hours=1), description="How long an approval stays valid.")
    proposer_counts: bool = Field(
        default=False, description="The proposer's own approval counts (speed first, e.g. a pause)."
    )

    @field_validator("roles", "must_include")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for role in value:
            if role not in _ROLES:
                raise ValueError(f"unknown role '{role}'; expected one of: {', '.join(_ROLES)}")
        return value

    def rule(self) -> ApprovalRule:
        return ApprovalRule(
            count=self.count,
            roles=tuple(self.roles),
            must_include=tuple(self.must_include),
            ttl=self.ttl,
            proposer_counts=self.proposer_counts,
        )


class PolicyMatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monitor: str = Field(min_length=1, description="Monitor name of the alert (e.g. contract-status).")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels the alert must carry.")
    severity: Literal["P0", "P1", "P2", "P3"] = "P0"
    events: list[Trigger] = Field(
        default_factory=lambda: list[Trigger](["fired"]),
        description="Alert events that trigger (fired: speed first).",
    )


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$", description="Unique name.")
    description: str = Field(default="", description="What it does, shown in the console and CLI.")
    when: PolicyMatch = Field(description="The alert that triggers it.")
    action: str = Field(description="The action kind it runs, pre-approved (e.g. pause_all).")
    params: dict[str, Any] = Field(default_factory=dict, description="The action's parameters.")


class EmergencyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirmations: int = Field(default=2, ge=0, le=64, description="Blocks on top of the inclusion block.")
    receipt_timeout_blocks: int = Field(default=50, ge=1, description="Blocks to wait for inclusion.")
    signers: dict[Literal["guardian", "governance", "issuer", "reserve"], SignerConfig] = Field(
        default_factory=dict, description="The keys the platform signs with."
    )
    approvals: dict[str, RuleConfig] = Field(
        default_factory=dict, description="Approval rule per action kind, replacing the built-in one."
    )
    policies: list[PolicyConfig] = Field(default_factory=list, description="Automatic-response policies.")


class EmergencyConfig(BaseModel):
    """The validated file (defaults when it is absent)."""

    confirmations: int = 2
    receipt_timeout_blocks: int = 50
    signers: dict[str, SignerConfig] = Field(default_factory=dict)
    rules: dict[str, ApprovalRule] = Field(default_factory=dict)
    policies: dict[str, PolicyConfig] = Field(default_factory=dict)
    config_dir: Path = Path()

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def policy(self, name: str) -> PolicyConfig:
        found = self.policies.get(name)
        if found is None:
            from fictra.errors import NotFoundError

            known = ", ".join(self.policies) or "none configured"
            raise NotFoundError(f"No automatic-response policy named '{name}' in {FILE}; known: {known}.")
        return found


def expand_dirs(value: str, *, data_dir: Path) -> str:
    """``${data_dir}``/``${devnet_dir}`` replaced by absolute paths (a relative data dir — the default
    ``.fictra`` — is the working directory's, not the config directory's)."""
    root = data_dir.expanduser().resolve()
    return value.replace("${devnet_dir}", str(root / "devnet")).replace("${data_dir}", str(root))


def expand_path(value: str, *, config_dir: Path, data_dir: Path) -> Path:
    """``${data_dir}``/``${devnet_dir}`` expanded; other relative paths are relative to the config
    directory."""
    path = Path(expand_dirs(value, data_dir=data_dir)).expanduser()
    return path if path.is_absolute() else config_dir / path


def _check(parsed: EmergencyFile, problems: list[str]) -> None:
    for kind in parsed.approvals:
        if kind not in DEFINITIONS:
            problems.append(
                f"{FILE}:approvals.{kind}: unknown action kind; expected one of: {', '.join(DEFINITIONS)}"
            )
    for kind, rule in parsed.approvals.items():
        for role in rule.must_include:
            if role not in rule.roles:
                problems.append(f"{FILE}:approvals.{kind}.must_include: '{role}' is not among roles")
        if rule.count < len(rule.must_include):
            problems.append(f"{FILE}:approvals.{kind}.count: {rule.count} is less than must_include's roles")
    seen: set[str] = set()
    for i, pol in enumerate(parsed.policies):
        where = f"{FILE}:policies.{i}"
        if pol.name in seen:
            problems.append(f"{where}.name: policy name '{pol.name}' is used twice")
        seen.add(pol.name)
        defn = DEFINITIONS.get(pol.action)
        if defn is None:
            problems.append(
                f"{where}.action: unknown action kind '{pol.action}'; expected one of: "
                + ", ".join(DEFINITIONS)
            )
            continue
        if defn.mode not in ("direct", "platform"):
            problems.append(
                f"{where}.action: '{pol.action}' cannot be automatic (only immediate containment actions: "
                "pause_all, halt_trading, emergency_shutdown, isolate, restart)"
            )
        try:
            validate_params(defn, pol.params)
        except FictraError as exc:
            problems.append(f"{where}.params: {exc.user_message}")
        if not pol.when.events:
            problems.append(f"{where}.when.events: give at least one of fired, confirmed")


def parse_emergency(docs: Sequence[Document], problems: list[str]) -> EmergencyConfig | None:
    """The emergency section of the config set (defaults when there is no emergency.yaml); None when
    broken, every problem appended. ``config_dir`` is bound by the config set."""
    if not docs:
        return EmergencyConfig()
    if broken(docs[0]):
        return None
    raw = docs[0].data
    try:
        parsed = EmergencyFile.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        problems.extend(problems_of(FILE, [], exc))
        return None
    before = len(problems)
    _check(parsed, problems)
    if len(problems) > before:
        return None
    return EmergencyConfig(
        confirmations=parsed.confirmations,
        receipt_timeout_blocks=parsed.receipt_timeout_blocks,
        signers=dict(parsed.signers),
        rules={kind: rule.rule() for kind, rule in parsed.approvals.items()},
        policies={p.name: p for p in parsed.policies},
    )
