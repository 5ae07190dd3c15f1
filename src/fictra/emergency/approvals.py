"""Approvals bound to the parameters they approved, and the rule check that execution needs.

An approval records the hash of the canonical parameters (:func:`params_hash`: the kind plus the params
as sorted, compact JSON). Changing the parameters (:func:`fictra.emergency.service.amend`) changes the
hash, so every earlier approval stops counting — nobody's approval can be carried over to something
they did not see. Execution needs the rule satisfied by *distinct*, *unexpired* approvals whose hash is
the current one (:func:`evaluate`). The rule check itself is the shared one of
:mod:`fictra.auth.approvals` (re-exported here).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fictra.auth.approvals import Verdict, canonical_roles, evaluate, why_invalid
from fictra.errors import ConflictError

__all__ = ["ApprovalError", "Verdict", "canonical_roles", "evaluate", "params_hash", "why_invalid"]


class ApprovalError(ConflictError):
    """An approval or an execution refused by the approval rule (HTTP 409, exit 2)."""


def params_hash(kind: str, params: dict[str, Any]) -> str:
    """sha256 of the kind and its params as canonical JSON (sorted keys, no spaces)."""
    doc = json.dumps({"kind": kind, "params": params}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(doc.encode()).hexdigest()
