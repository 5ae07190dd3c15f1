"""Typed action definitions: each kind's parameters, who may propose it, its approval rule, the signer it
needs and how it reaches the chain (or the platform).

The defaults live here; ``config/emergency.yaml`` may override a kind's approval rule
(:func:`fictra.emergency.config.parse_emergency`). How each kind builds its transactions and
verifies its effect is in :mod:`fictra.emergency.calls`; this module stays free of chain code so that
the service (propose/approve) needs nothing but the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fictra.errors import UsageError

__all__ = [
    "DEFINITIONS",
    "ApprovalRule",
    "Definition",
    "definition",
    "kinds",
    "validate_params",
]

Mode = Literal["direct", "timelock", "governor", "platform", "policy"]
Signer = Literal["guardian", "governance", "none"]
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Params):
    """The action acts on the whole deployment: no parameters."""


class ComponentTarget(_Params):
    """Exactly one of ``endpoint`` (an RPC endpoint name from network.yaml) or ``contract`` (a manifest
    contract name)."""

    endpoint: str | None = Field(default=None, min_length=1, max_length=200)
    contract: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _exactly_one(self) -> ComponentTarget:
        if (self.endpoint is None) == (self.contract is None):
            raise ValueError("give exactly one of 'endpoint' (an RPC endpoint name) or 'contract'")
        return self


class UpgradeParams(_Params):
    """``upgradeToAndCall(implementation, data)`` on the UUPS proxy named ``proxy``, proposed to the
    FictraGovernor."""

    proxy: Literal["PaymentToken", "Reserve"]
    implementation: str = Field(description="New implementation address (0x + 40 hex).")
    data: str = Field(default="0x", description="Call data run after the upgrade (0x for none).")
    description: str = Field(min_length=1, max_length=2000, description="The governance proposal text.")

    @model_validator(mode="after")
    def _hex(self) -> UpgradeParams:
        if not _ADDRESS.match(self.implementation):
            raise ValueError(f"'implementation' {self.implementation!r} is not an address (0x + 40 hex)")
        if not _HEX.match(self.data):
            raise ValueError("'data' must be 0x-prefixed hex with whole bytes")
        return self


class RestartParams(_Params):
    component: str = Field(min_length=1, max_length=200, description="follower, response_tick, notify...")


class PolicyParams(_Params):
    policy: str = Field(min_length=1, max_length=200, description="Policy name from emergency.yaml.")


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


@dataclass(frozen=True)
class Definition:
    kind: str
    title: str
    description: str
    params: type[_Params]
    proposers: tuple[str, ...]
    rule: ApprovalRule
    signer: Signer
    mode: Mode
    containment: bool = False  # stops harm (pause, halt, isolate): measured alert -> confirmed

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()


_RESPONDERS = ("security_officer", "technical_lead", "system_architect", "operations_manager")
_FAST = ApprovalRule(
    count=1, roles=("security_officer", "technical_lead"), ttl=timedelta(minutes=30), proposer_counts=True
)
_RECOVERY = ApprovalRule(
    count=2,
    roles=("operations_manager", "security_officer", "technical_lead", "system_architect"),
    must_include=("operations_manager",),
    ttl=timedelta(hours=4),
    proposer_counts=True,
)
_COMPONENT = ApprovalRule(
    count=1,
    roles=("technical_lead", "system_architect", "security_officer", "operations_manager"),
    ttl=timedelta(hours=1),
    proposer_counts=True,
)

DEFINITIONS: dict[str, Definition] = {
    d.kind: d
    for d in (
        Definition(
            "pause_all",
            "Circuit breaker: pause every contract",
            "EmergencyController.pauseAll() from the guardian key; verified when every registered "
            "target reports paused().",
            NoParams, _RESPONDERS, _FAST, "guardian", "direct", containment=True,
        ),
        Definition(
            "halt_trading",
            "Halt PaymentToken trading",
            "EmergencyController.haltTrading() from the guardian key; verified when tradingHalted().",
            NoParams, _RESPONDERS, _FAST, "guardian", "direct", containment=True,
        ),
        Definition(
            "emergency_shutdown",
            "Emergency shutdown: pause all and halt trading",
            "pauseAll() then haltTrading() from the guardian key; verified when every target is paused "
            "and trading is halted.",
            NoParams, _RESPONDERS, _FAST, "guardian", "direct", containment=True,
        ),
        Definition(
            "unpause_all",
            "Unpause every contract (through the Timelock)",
            "EmergencyController.unpauseAll() scheduled on the Timelock with the governance key and "
            "executed once ready; verified when no target reports paused().",
            NoParams, _RESPONDERS, _RECOVERY, "governance", "timelock",
        ),
        Definition(
            "resume_trading",
            "Resume PaymentToken trading (through the Timelock)",
            "EmergencyController.resumeTrading() through the Timelock; verified when not tradingHalted().",
            NoParams, _RESPONDERS, _RECOVERY, "governance", "timelock",
        ),
        Definition(
            "isolate",
            "Isolate a component",
            "The platform stops using an RPC endpoint, or refuses to send actions to a contract; "
            "verified by reading the platform state back.",
            ComponentTarget, _RESPONDERS, _COMPONENT, "none", "platform", containment=True,
        ),
        Definition(
            "restore",
            "Restore an isolated component",
            "Undo isolate: the platform uses the endpoint / contract again.",
            ComponentTarget, _RESPONDERS, _COMPONENT, "none", "platform",
        ),
        Definition(
            "restart",
            "Restart a platform component",
            "Restart the follower, response tick, notify worker... through the platform's controls.",
            RestartParams, _RESPONDERS, _COMPONENT, "none", "platform",
        ),
        Definition(
            "upgrade",
            "Contract upgrade through a governance proposal",
            "A FictraGovernor proposal for upgradeToAndCall(implementation, data) on a UUPS proxy; "
            "tracked through the proposal states; verified by the ERC-1967 implementation slot.",
            UpgradeParams,
            ("technical_lead", "system_architect"),
            ApprovalRule(
                count=2,
                roles=("technical_lead", "system_architect", "security_officer", "operations_manager"),
                must_include=("security_officer",),
                ttl=timedelta(hours=24),
                proposer_counts=True,
            ),
            "governance", "governor",
        ),
        Definition(
            "policy_enable",
            "Enable an automatic-response policy",
            "Lets the policy trigger its pre-approved action when a matching alert fires.",
            PolicyParams, _RESPONDERS, _RECOVERY, "none", "policy",
        ),
        Definition(
            "policy_disable",
            "Disable an automatic-response policy",
            "The policy stops triggering actions.",
            PolicyParams, _RESPONDERS, _RECOVERY, "none", "policy",
        ),
    )
}  # fmt: skip


def kinds() -> list[str]:
    return list(DEFINITIONS)


def definition(kind: str, overrides: dict[str, ApprovalRule] | None = None) -> Definition:
    """The definition of ``kind`` (with its approval rule overridden from config when given)."""
    found = DEFINITIONS.get(kind)
    if found is None:
        raise UsageError(f"Unknown action kind '{kind}'; expected one of: {', '.join(DEFINITIONS)}.")
    if overrides and kind in overrides:
        return replace(found, rule=overrides[kind])
    return found


def validate_params(defn: Definition, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against the kind's model; the normalised dict (defaults filled in)."""
    try:
        model = defn.params.model_validate(params)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "params"
            msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {str(msg).removeprefix('Value error, ')}")
        raise UsageError(
            f"Parameters of '{defn.kind}' are invalid: "
            + "; ".join(problems)
            + f". Schema: {sorted(defn.params.model_fields) or 'no parameters'}."
        ) from None
    return model.model_dump(mode="json", exclude_none=True)
