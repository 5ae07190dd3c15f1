"""What a kind declares, as data: its parameters (a Pydantic model), who may propose it (a permission from
``roles.yaml`` and, within it, the roles the runbook names), its approval rule, the signer it needs and
what that signer may sign. No chain or database code here: the service (propose/approve) needs nothing
but these values.

``config/emergency.yaml`` may override a kind's approval rule
(:func:`fictra.emergency.config.parse_emergency`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fictra.auth.approvals import ApprovalRule

__all__ = [
    "COMPONENT",
    "FAST",
    "POLICY_MANAGERS",
    "RECOVERY",
    "RESPONDERS",
    "ApprovalRule",
    "ComponentTarget",
    "Definition",
    "Mode",
    "NoParams",
    "Params",
    "PolicyParams",
    "RestartParams",
    "SignerRole",
    "Signs",
    "UpgradeParams",
]

Mode = Literal["direct", "timelock", "governor", "platform", "policy"] | str
SignerRole = Literal["guardian", "governance", "none"] | str
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


class Params(BaseModel):
    """Base of every kind's parameter model: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """The action acts on the whole deployment: no parameters."""


class ComponentTarget(Params):
    """Exactly one of ``endpoint`` (an RPC endpoint name from network.yaml) or ``contract`` (a manifest
    contract name)."""

    endpoint: str | None = Field(default=None, min_length=1, max_length=200)
    contract: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _exactly_one(self) -> ComponentTarget:
        if (self.endpoint is None) == (self.contract is None):
            raise ValueError("give exactly one of 'endpoint' (an RPC endpoint name) or 'contract'")
        return self


class UpgradeParams(Params):
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


class RestartParams(Params):
    component: str = Field(min_length=1, max_length=200, description="follower, response_tick, notify...")


class PolicyParams(Params):
    policy: str = Field(min_length=1, max_length=200, description="Policy name from emergency.yaml.")


@dataclass(frozen=True)
class Signs:
    """What a signer may sign for a kind: ``functions`` of the manifest contract ``contract`` (ABI from
    ``artifact``). The keystore key is restricted to the union over every registered kind."""

    signer: str
    contract: str
    artifact: str
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Definition:
    """A kind as data. ``permission`` is what ``roles.yaml`` must grant to propose (or amend) it;
        ``proposers`` the roles among those holding it that the runbook lets propose it (each must hold
        the permission: a test checks it against roles.yaml). ``example`` is a valid parameter set (docs,
        the permission matrix test). ``causes`` names the alert conditions (the ``condition`` label) the kind
    causes on purpose, so the incidents domain joins such alerts to the action's incident."""

    kind: str
    title: str
    description: str
    params: type[Params]
    proposers: tuple[str, ...]
    rule: ApprovalRule
    signer: SignerRole
    mode: Mode
    containment: bool = False  # stops harm (pause, halt, isolate): measured alert -> confirmed
    permission: str = "actions.propose"
    example: dict[str, Any] = field(default_factory=dict)
    signs: tuple[Signs, ...] = ()
    causes: tuple[str, ...] = ()  # alert conditions it causes on purpose (``paused``): not a new incident

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()


RESPONDERS = ("security_officer", "technical_lead", "system_architect", "operations_manager")
POLICY_MANAGERS = ("security_officer", "operations_manager")
FAST = ApprovalRule(
    count=1, roles=("security_officer", "technical_lead"), ttl=timedelta(minutes=30), proposer_counts=True
)
RECOVERY = ApprovalRule(
    count=2,
    roles=("operations_manager", "security_officer", "technical_lead", "system_architect"),
    must_include=("operations_manager",),
    ttl=timedelta(hours=4),
    proposer_counts=True,
)
COMPONENT = ApprovalRule(
    count=1,
    roles=("technical_lead", "system_architect", "security_officer", "operations_manager"),
    ttl=timedelta(hours=1),
    proposer_counts=True,
)
