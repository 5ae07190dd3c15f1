"""The sovereign allocation registry against the chain, as pure functions: what FoundationToken says of each
sovereign (holder, cap, issued; the holder's balance, votes and delegate), the mismatches with the
registry, and the allocation verification report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fictra.tokens.config import Sovereign

__all__ = ["ChainAllocation", "Finding", "reconcile", "report_row"]

E18 = 10**18
ZERO = "0x" + "0" * 40


@dataclass(frozen=True, slots=True)
class ChainAllocation:
    sovereign_id: str
    holder: str  # ZERO when the id is not registered on chain
    cap: int  # FT wei
    issued: int
    balance: int  # of the registry's address
    votes: int
    delegate: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One reconciliation problem: ``kind`` is allocation_mismatch | votes_not_delegated."""

    sovereign: str
    kind: str
    text: str


def reconcile(sovereign: Sovereign, chain: ChainAllocation) -> list[Finding]:
    """Every difference between the registry entry and the chain."""
    out: list[Finding] = []
    sid = sovereign.id
    if chain.holder.lower() == ZERO:
        return [Finding(sid, "allocation_mismatch", f"{sid} is not registered on FoundationToken")]
    if chain.holder.lower() != sovereign.address.lower():
        out.append(
            Finding(
                sid,
                "allocation_mismatch",
                f"{sid} holder on chain {chain.holder} != registry {sovereign.address}",
            )
        )
    if chain.cap != sovereign.allocation * E18:
        out.append(
            Finding(
                sid, "allocation_mismatch",
                f"{sid} allocation on chain {chain.cap / E18:,.0f} FT != registry {sovereign.allocation:,}",
            )
        )  # fmt: skip
    if chain.balance > 0 and chain.delegate.lower() != sovereign.address.lower():
        who = "nobody" if chain.delegate.lower() == ZERO else chain.delegate
        out.append(
            Finding(
                sid, "votes_not_delegated",
                f"{sid} holds {chain.balance / E18:,.0f} FT but its votes are delegated to {who}, not itself "
                f"(voting power {chain.votes / E18:,.0f})",
            )
        )  # fmt: skip
    return out


def report_row(sovereign: Sovereign, chain: ChainAllocation) -> dict[str, Any]:
    """One line of the allocation verification report."""
    problems = reconcile(sovereign, chain)
    return {
        "sovereign": sovereign.id,
        "participant": sovereign.participant,
        "country": sovereign.country,
        "address": sovereign.address,
        "kyc": sovereign.kyc.status,
        "allocation_ft": sovereign.allocation,
        "cap_onchain_ft": chain.cap / E18,
        "issued_ft": chain.issued / E18,
        "remaining_ft": (chain.cap - chain.issued) / E18,
        "balance_ft": chain.balance / E18,
        "votes_ft": chain.votes / E18,
        "delegate": chain.delegate,
        "ok": not problems,
        "problems": [p.text for p in problems],
    }
