"""Permissions (one per action) and the role -> permissions map loaded from ``config/roles.yaml``.

``PERMISSIONS`` is the single list of permission names. ``roles.yaml`` maps each role to a list of those
names (``"*"`` means every permission); an unknown key, role entry or permission name is reported as
``roles.yaml:roles.<role>.<index>: ...``, every problem at once
(:class:`fictra.config.problems.ConfigProblems`).
The platform reads the file once, at start-up, into its :class:`~fictra.platform.config_set.ConfigSet`
(:func:`parse_roles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fictra.config.problems import ConfigProblems, problems_of
from fictra.config.reader import read_yaml
from fictra.config.sections import Document, broken

PERMISSIONS: dict[str, str] = {
    "alerts.read": "List and show alerts with their evidence and timeline.",
    "alerts.acknowledge": "Acknowledge a firing alert.",
    "alerts.resolve": "Resolve an alert by hand.",
    "alerts.note": "Add a note to an alert's timeline.",
    "alerts.escalate": "Escalate an alert now.",
    "alerts.assign": "Assign an alert to a person.",
    "alerts.snooze": "Snooze an alert's escalation for a while.",
    "silences.read": "List silences.",
    "silences.manage": "Create and expire silences.",
    "oncall.read": "See on-call schedules.",
    "oncall.manage": "Change on-call schedules and overrides.",
    "escalations.manage": "Change escalation policies.",
    "notifications.read": "See notification deliveries.",
    "notifications.retry": "Retry a failed notification.",
    "networks.read": "See networks and endpoint health.",
    "monitors.read": "See monitors and their state.",
    "metrics.read": "Read metric series (charts).",
    "audit.read": "Read the audit log.",
    "audit.verify": "Verify the audit log's hash chain and checkpoints.",
    "users.read": "List users and their roles.",
    "users.manage": "Create and disable users.",
    "tokens.manage": "Create and revoke API tokens of any user.",
    "inbound.write": "Post inbound webhooks (alerts from other systems).",
    "incidents.read": "List and show incidents: phases, outputs, timeline, evidence, report.",
    "incidents.declare": "Declare an incident (from alerts or from scratch).",
    "incidents.manage": "Run an incident: phases, outputs, roles, notes, tasks, evidence, close.",
    "incidents.communicate": "Send incident status updates and schedule emergency meetings.",
    "actions.read": "List and show emergency actions, their approvals, dry runs and transactions.",
    "actions.propose": "Propose (and amend or cancel) an emergency or recovery action.",
    "actions.approve": "Approve an emergency action (the action's approval rule decides whose counts).",
    "actions.execute": "Dry-run and execute an approved emergency action.",
    "policies.manage": "Propose enabling or disabling an automatic-response policy.",
    "procedures.read": "See routine procedures, their runs, step results and evidence.",
    "procedures.signoff": "Sign off a manual step of a procedure run (the step's roles decide who may).",
    "tickets.read": "List and show support tickets with their replies, notes, links and SLA clocks.",
    "tickets.manage": "Work support tickets: assign, reply to the requester, notes, links, state.",
    "support.submit": "Submit a support ticket (the scope of a participant's integration token).",
    "reserve.read": "See the proof of reserve (assets, prices, freshness, collateral ratio), feed updates.",
    "tokens.read": "See the sovereign allocation registry reconciled with FoundationToken (caps, votes).",
    "maintenance.read": "List and show maintenance windows, their held alerts, events and log.",
    "maintenance.manage": "Create, start, end and cancel maintenance windows; log steps, actions, notes.",
    "changes.read": "List and show change requests: content, impact, risk, approvals, conflicts, timeline.",
    "changes.request": "Request, edit, assess, submit, schedule, review, close and cancel change requests.",
    "changes.approve": "Approve a change request and acknowledge its conflicts (its approval rule decides).",
    "changes.implement": "Implement a scheduled change: steps, on-chain steps, verification, rollback.",
    "proposals.read": "List and show governance proposals: decoded calls, risk, votes, simulation, review.",
    "proposals.review": "Review governance proposals: fork simulation, sign-off, verification, change link.",
    "compliance.read": "See screening hits, sanctions/threat list versions with their diffs, KYC records.",
    "compliance.manage": "Import sanctions and threat lists and KYC records; re-screen addresses and names.",
    "compliance.dispose": "Disposition a screening hit as a false positive (with a reason; audited).",
    "compliance.approve": "Approve a suspicious activity report (compliance officer and legal both needed).",
}

ALL = "*"
ROLE_ALIASES: dict[str, str] = {"lead_engineer": "technical_lead"}


class _RolesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: dict[str, list[str]] = Field(min_length=1)


@dataclass(frozen=True)
class RoleMap:
    """Role name -> permissions (``"*"`` already expanded to every permission)."""

    roles: dict[str, frozenset[str]]

    def canonical(self, role: str) -> str:
        return ROLE_ALIASES.get(role, role)

    def known(self, role: str) -> bool:
        return self.canonical(role) in self.roles

    def permissions_of(self, roles: tuple[str, ...] | list[str]) -> frozenset[str]:
        out: set[str] = set()
        for role in roles:
            out |= self.roles.get(self.canonical(role), frozenset())
        return frozenset(out)

    def names(self) -> list[str]:
        return sorted(self.roles)


def role_problems(path: Path) -> tuple[RoleMap | None, list[str]]:
    """Parse ``path``; return the role map (None when broken) and every problem as ``file:key: message``."""
    rel = path.name
    problems: list[str] = []
    if not path.is_file():
        return None, [f"{rel}: file not found (it maps roles to permissions)"]
    raw = read_yaml(path, rel, problems)
    if problems:
        return None, problems
    return roles_of(rel, raw)


def parse_roles(docs: Sequence[Document], problems: list[str]) -> RoleMap | None:
    """The roles section of the config set: :func:`default_roles` when there is no roles.yaml."""
    if not docs:
        return default_roles()
    if broken(docs[0]):
        return None
    roles, found = roles_of(docs[0].rel, docs[0].data)
    problems.extend(found)
    return roles


def roles_of(rel: str, raw: Any) -> tuple[RoleMap | None, list[str]]:
    """The role map of a parsed roles file (None when broken) and every problem."""
    problems: list[str] = []
    try:
        parsed = _RolesFile.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        return None, problems_of(rel, [], exc)
    roles: dict[str, frozenset[str]] = {}
    for role, perms in parsed.roles.items():
        if role in ROLE_ALIASES:
            problems.append(
                f"{rel}:roles.{role}: '{role}' is an alias of '{ROLE_ALIASES[role]}'; "
                "define that role instead"
            )
        expanded: set[str] = set()
        for i, name in enumerate(perms):
            if name == ALL:
                expanded |= set(PERMISSIONS)
            elif name in PERMISSIONS:
                expanded.add(name)
            else:
                problems.append(
                    f"{rel}:roles.{role}.{i}: unknown permission '{name}'; expected '*' or one of: "
                    + ", ".join(sorted(PERMISSIONS))
                )
        roles[role] = frozenset(expanded)
    return (None if problems else RoleMap(roles)), problems


def load_roles(path: Path) -> RoleMap:
    """Load and check a roles file; raise :class:`ConfigProblems` listing every problem."""
    roles, problems = role_problems(path)
    if roles is None:
        raise ConfigProblems(path.parent, problems)
    return roles


_RESPONDER = [
    "alerts.read", "alerts.acknowledge", "alerts.resolve", "alerts.note", "alerts.escalate", "alerts.assign",
    "alerts.snooze", "silences.read", "silences.manage", "oncall.read", "notifications.read",
    "networks.read", "monitors.read", "metrics.read",
    "incidents.read", "incidents.declare", "incidents.manage", "incidents.communicate",
    "actions.read", "actions.propose", "actions.approve", "actions.execute",
    "procedures.read", "procedures.signoff", "tickets.read", "tickets.manage", "support.submit",
    "maintenance.read", "maintenance.manage",
    "changes.read", "changes.request", "changes.approve", "changes.implement",
    "proposals.read", "proposals.review", "reserve.read", "tokens.read",
]  # fmt: skip
_READ = [
    "alerts.read", "networks.read", "monitors.read", "metrics.read", "incidents.read", "actions.read",
    "procedures.read", "changes.read", "proposals.read", "reserve.read", "tokens.read",
]  # fmt: skip
DEFAULT_ROLES: dict[str, list[str]] = {
    "viewer": [*_READ, "silences.read", "oncall.read"],
    "first_level_support": [
        *_READ, "alerts.acknowledge", "alerts.note", "silences.read", "oncall.read", "notifications.read",
        "procedures.signoff", "tickets.read", "tickets.manage", "support.submit",
    ],
    "technical_lead": [*_RESPONDER, "notifications.retry", "audit.read"],
    "system_architect": [*_RESPONDER, "notifications.retry", "audit.read"],
    "security_officer": [
        *_RESPONDER, "audit.read", "audit.verify", "users.read", "policies.manage", "compliance.read",
    ],
    "operations_manager": [
        *_RESPONDER, "oncall.manage", "escalations.manage", "notifications.retry", "users.read",
        "policies.manage",
    ],
    "compliance_officer": [
        *_READ, "silences.read", "oncall.read", "audit.read", "audit.verify", "procedures.signoff",
        "tickets.read", "compliance.read", "compliance.manage", "compliance.dispose", "actions.approve",
        "compliance.approve",
    ],
    "product_owner": [*_READ, "silences.read", "oncall.read"],
    "legal": [*_READ, "audit.read", "compliance.read", "actions.approve", "compliance.approve"],
    "executive": list(_READ),
    "admin": [ALL],
}  # fmt: skip
"""The roles used when a config directory has no roles.yaml (config/roles.yaml spells out the same)."""


def default_roles() -> RoleMap:
    return RoleMap({role: frozenset(PERMISSIONS if ALL in p else p) for role, p in DEFAULT_ROLES.items()})


_CACHE: dict[Path, tuple[float, RoleMap]] = {}


def roles_from(config_dir: Path) -> RoleMap:
    """``config_dir/roles.yaml``, reloaded when the file changes (so role edits apply without a restart);
    :data:`DEFAULT_ROLES` when the directory has no roles.yaml."""
    path = (config_dir / "roles.yaml").resolve()
    if not path.exists():
        return default_roles()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = -1.0
    hit = _CACHE.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    loaded = load_roles(path)
    _CACHE[path] = (mtime, loaded)
    return loaded
