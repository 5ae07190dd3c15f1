"""The foundation-token family: ft_issue — FT issued to a sovereign's holder within its allocation.

``FoundationToken.issue(sovereignId, amount)`` signed with the issuer key (ISSUER_ROLE). The request's
pre-execution checks (registry, KYC, allocation and supply caps: :mod:`fictra.tokens.issuance`) run before
it is proposed; the plan checks the allocation left on chain again, so a proposal overtaken by another
issuance cannot be executed. Verified when the holder's balance, the FT supply and the sovereign's issued
amount each moved by exactly ``amount`` from the values recorded in the parameters.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import Field, field_validator

from fictra.auth.approvals import ApprovalRule
from fictra.emergency.abi import encode_call
from fictra.emergency.kinds.base import ActionFacts, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.onchain import OnChainKind
from fictra.emergency.kinds.spec import Definition, Params, Signs
from fictra.errors import ConflictError

__all__ = ["FT_ISSUE_RULE", "FtIssue", "FtIssueParams"]

E18 = 10**18
_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_UINT = re.compile(r"^[0-9]{1,78}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
FT_ISSUE_RULE = ApprovalRule(
    count=3,
    roles=("operations_manager", "compliance_officer", "legal"),
    must_include=("operations_manager", "compliance_officer", "legal"),
    ttl=timedelta(hours=24),
    proposer_counts=True,
)


class FtIssueParams(Params):
    sovereign: str = Field(description="Sovereign id as registered on FoundationToken, e.g. SOVEREIGN-1.")
    holder: str = Field(description="The sovereign's FT holder (0x + 40 hex).")
    amount: str = Field(description="FT to issue, in wei (18 decimals), as a decimal string.")
    reason: str = Field(min_length=1, max_length=2000)
    documents: list[str] = Field(default_factory=list, max_length=50, description="sha256 of documents.")
    balance_before: str = Field(description="The holder's FT balance when the request was checked (wei).")
    supply_before: str = Field(description="FT total supply when the request was checked (wei).")
    issued_before: str = Field(description="The sovereign's issued amount when checked (wei).")

    @field_validator("sovereign")
    @classmethod
    def _sovereign(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be 1-32 upper-case letters, digits or '-'")
        return v

    @field_validator("holder")
    @classmethod
    def _holder(cls, v: str) -> str:
        if not _ADDRESS.match(v):
            raise ValueError("must be an address: 0x and 40 hex digits")
        return v

    @field_validator("amount", "balance_before", "supply_before", "issued_before")
    @classmethod
    def _uint(cls, v: str) -> str:
        if not _UINT.match(v):
            raise ValueError("must be a non-negative integer in wei, as a decimal string")
        return v

    @field_validator("documents")
    @classmethod
    def _docs(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if not _SHA256.match(d)]
        if bad:
            raise ValueError(f"not sha256 hashes: {', '.join(bad)}")
        return v


def _sid(sovereign: str) -> bytes:
    return sovereign.encode().ljust(32, b"\x00")


class FtIssue(OnChainKind):
    definition = Definition(
        "ft_issue",
        "Issue FT to a sovereign (within its allocation)",
        "FoundationToken.issue(sovereignId, amount) from the issuer key, after the registry, KYC, allocation "
        "and supply checks (`fictra tokens issue`, POST /api/v1/tokens/issuances); verified when balance, "
        "supply and issued each moved by exactly the amount.",
        FtIssueParams, ("operations_manager",), FT_ISSUE_RULE, "issuer", "direct",
        example={
            "sovereign": "SOVEREIGN-1", "holder": "0x" + "1" * 40, "amount": str(1000 * E18),
            "reason": "Quarterly allocation", "documents": [], "balance_before": "0", "supply_before": "0",
            "issued_before": "0",
        },
        signs=(Signs("issuer", "FoundationToken", "FoundationToken", ("issue",)),),
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        p = action.params
        amount = int(p["amount"])
        holder, cap, issued = await ctx.reader.read("FoundationToken", "allocation", _sid(p["sovereign"]))
        if str(holder).lower() != str(p["holder"]).lower():
            raise ConflictError(f"{p['sovereign']}'s holder on chain is {holder}, not {p['holder']}.")
        if amount > int(cap) - int(issued):
            raise ConflictError(
                f"{amount / E18:,.0f} FT exceeds {p['sovereign']}'s allocation left on chain "
                f"({(int(cap) - int(issued)) / E18:,.0f} FT)."
            )
        token = ctx.reader.address("FoundationToken")
        data = encode_call("FoundationToken", "issue", _sid(p["sovereign"]), amount)
        label = f"FoundationToken.issue({p['sovereign']}, {amount / E18:,.0f} FT)"
        return [PlannedCall(0, label, "issuer", token, data)]

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        p = action.params
        (balance,) = await ctx.reader.read("FoundationToken", "balanceOf", p["holder"])
        (supply,) = await ctx.reader.read("FoundationToken", "totalSupply")
        _holder, _cap, issued = await ctx.reader.read("FoundationToken", "allocation", _sid(p["sovereign"]))
        return Observation(
            f"{p['sovereign']} holds {int(balance) / E18:,.0f} FT; supply {int(supply) / E18:,.0f}; issued "
            f"{int(issued) / E18:,.0f}",
            {"balance": str(balance), "supply": str(supply), "issued": str(issued)},
        )

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        p, d = action.params, seen.details
        amount = int(p["amount"])
        return (
            int(d["balance"]) == int(p["balance_before"]) + amount
            and int(d["supply"]) == int(p["supply_before"]) + amount
            and int(d["issued"]) == int(p["issued_before"]) + amount
        )
