"""Approvals bound to the parameters they approved, and the rule check that execution needs.

An approval records the hash of the canonical parameters (:func:`params_hash`: the kind plus the params
as sorted, compact JSON). Changing the parameters (:func:`fictra.emergency.service.amend`) changes the
hash, so every earlier approval stops counting — nobody's approval can be carried over to something
they did not see. Execution needs the rule satisfied by *distinct*, *unexpired* approvals whose hash is
the current one (:func:`evaluate`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fictra.auth.permissions import ROLE_ALIASES
from fictra.emergency.definitions import ApprovalRule
from fictra.emergency.models import ActionApproval
from fictra.errors import ConflictError

__all__ = ["ApprovalError", "Verdict", "canonical_roles", "evaluate", "params_hash", "why_invalid"]


class ApprovalError(ConflictError):
    """An approval or an execution refused by the approval rule (HTTP 409, exit 2)."""


def params_hash(kind: str, params: dict[str, Any]) -> str:
    """sha256 of the kind and its params as canonical JSON (sorted keys, no spaces)."""
    doc = json.dumps({"kind": kind, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()


def canonical_roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(ROLE_ALIASES.get(r, r) for r in roles)


def why_invalid(approval: ActionApproval, *, current_hash: str, now: datetime) -> str | None:
    """Why ``approval`` does not count now (None when it does)."""
    if approval.params_hash != current_hash:
        return f"approved parameters {approval.params_hash[:12]} but they are now {current_hash[:12]}"
    if approval.expires_at <= now:
        return f"expired at {approval.expires_at.isoformat()}"
    return None


@dataclass(frozen=True)
class Verdict:
    satisfied: bool
    counted: tuple[str, ...]  # approvers that count
    missing: str | None  # what is still needed, in words


def evaluate(
    rule: ApprovalRule,
    approvals: Sequence[ActionApproval],
    *,
    current_hash: str,
    now: datetime,
) -> Verdict:
    """Does ``rule`` hold with the valid approvals among ``approvals``? Approvals given by a policy
    (``via='policy:...'``) satisfy the rule on their own: the policy was itself enabled by an approved
    action."""
    valid = [a for a in approvals if why_invalid(a, current_hash=current_hash, now=now) is None]
    if any(a.via.startswith("policy:") for a in valid):
        return Verdict(True, tuple(a.approver for a in valid), None)
    people: dict[str, set[str]] = {}
    for a in valid:
        eligible = set(canonical_roles(a.roles)) & set(rule.roles)
        if eligible:
            people.setdefault(a.approver, set()).update(eligible)
    missing: list[str] = []
    if len(people) < rule.count:
        missing.append(f"{rule.count - len(people)} more approval(s) from {' or '.join(rule.roles)}")
    for role in rule.must_include:
        if not any(role in roles for roles in people.values()):
            missing.append(f"an approval from {'an' if role[0] in 'aeiou' else 'a'} {role}")
    return Verdict(not missing, tuple(sorted(people)), "; ".join(missing) or None)
