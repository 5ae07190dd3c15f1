"""Approvals bound to a hash of what was approved, and the rule check over them (shared by the domains).

An approval is a (person, roles) pair recorded with the hash of the content it approved and an expiry.
:func:`evaluate` answers whether a rule (:class:`ApprovalRule`: how many *distinct* people, from which
roles, which roles must be among them) holds with the approvals that still count: same hash as now, not
expired. Changing the content changes the hash, so nobody's approval carries over to something they did
not see. The emergency actions (``fictra.emergency.approvals``) and the change requests
(``fictra.changes.approvals``) both use it; each stores its approvals in its own table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from fictra.auth.permissions import ROLE_ALIASES

__all__ = [
    "ApprovalRule",
    "BoundApproval",
    "Verdict",
    "canonical_roles",
    "content_hash",
    "evaluate",
    "why_invalid",
]


def content_hash(doc: Any) -> str:
    """sha256 of ``doc`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_roles(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(ROLE_ALIASES.get(r, r) for r in roles)


class BoundApproval(Protocol):
    """What the rule check reads of a stored approval (an ORM row of either domain)."""

    @property
    def approver(self) -> str: ...
    @property
    def roles(self) -> list[str]: ...
    @property
    def params_hash(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def via(self) -> str: ...


@dataclass(frozen=True)
class ApprovalRule:
    """How many distinct, unexpired approvals from which roles execution needs.

    ``proposer_counts``: the proposer's own approval counts, and proposing records it at once (speed
    first: a security officer proposing a pause has approved it). When False the proposer cannot
    approve their own action."""

    count: int
    roles: tuple[str, ...]
    must_include: tuple[str, ...] = ()
    ttl: timedelta = timedelta(hours=1)
    proposer_counts: bool = False

    def describe(self) -> str:
        who = " or ".join(self.roles)
        text = f"{self.count} approval{'s' if self.count != 1 else ''} from distinct people ({who})"
        if self.must_include:
            text += f", including {' and '.join(self.must_include)}"
        text += f"; each valid {_span(self.ttl)}"
        if self.proposer_counts:
            text += "; the proposer's own approval counts"
        else:
            text += "; the proposer cannot approve"
        return text

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ApprovalRule:
        return cls(
            count=int(doc["count"]),
            roles=tuple(doc["roles"]),
            must_include=tuple(doc.get("must_include", ())),
            ttl=timedelta(seconds=int(doc["ttl_seconds"])),
            proposer_counts=bool(doc.get("proposer_counts", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "roles": list(self.roles),
            "must_include": list(self.must_include),
            "ttl_seconds": int(self.ttl.total_seconds()),
            "proposer_counts": self.proposer_counts,
            "text": self.describe(),
        }


def _span(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def why_invalid(
    approval: BoundApproval, *, current_hash: str, now: datetime, what: str = "parameters"
) -> str | None:
    """Why ``approval`` does not count now (None when it does); ``what`` names what the hash covers."""
    if approval.params_hash != current_hash:
        return f"approved {what} {approval.params_hash[:12]} but they are now {current_hash[:12]}"
    if approval.expires_at <= now:
        return f"expired at {approval.expires_at.isoformat()}"
    return None


@dataclass(frozen=True)
class Verdict:
    satisfied: bool
    counted: tuple[str, ...]  # approvers that count
    missing: str | None  # what is still needed, in words
    missing_roles: tuple[str, ...] = ()  # must_include roles nobody valid holds yet


def evaluate(
    rule: ApprovalRule,
    approvals: Sequence[BoundApproval],
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
    absent = tuple(r for r in rule.must_include if not any(r in roles for roles in people.values()))
    for role in absent:
        missing.append(f"an approval from {'an' if role[0] in 'aeiou' else 'a'} {role}")
    return Verdict(not missing, tuple(sorted(people)), "; ".join(missing) or None, absent)
