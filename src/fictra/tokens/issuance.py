"""FT issuance requests: the pre-execution checks against the registry and the chain, and the parameters
of the ``ft_issue`` action they become (proposed under its approval rule by the API or the CLI).

Checks, all reported at once: the sovereign is in the registry; its KYC is approved and not expired; the
amount fits the allocation left on chain (cap − issued) and the registry's allocation; the FT supply stays
within ``ft_supply_cap``; the registry and the chain agree on the holder. The parameters carry the balance,
supply and issued amount *before*, so the action's verification can require that each moved by exactly
the amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fictra.errors import ConflictError, UsageError
from fictra.tokens.config import TokensConfig
from fictra.tokens.registry import ZERO, ChainAllocation

__all__ = ["IssuanceRequest", "precheck"]

E18 = 10**18
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class IssuanceRequest:
    sovereign: str
    amount_ft: int  # whole FT
    reason: str
    documents: tuple[str, ...] = ()  # sha256 hex of the supporting documents


def precheck(
    config: TokensConfig, request: IssuanceRequest, *, chain: ChainAllocation | None, supply: int, today: date
) -> dict[str, Any]:
    """The ``ft_issue`` parameters, or ConflictError naming every check that fails (UsageError for
    malformed input)."""
    if request.amount_ft <= 0:
        raise UsageError(f"amount must be a positive number of FT, not {request.amount_ft}.")
    if not request.reason.strip():
        raise UsageError("reason is required: say why the FT is issued.")
    bad = [d for d in request.documents if not _SHA256.match(d)]
    if bad:
        raise UsageError(
            f"documents must be sha256 hashes (64 lower-case hex digits); not: {', '.join(bad)}."
        )
    sovereign = config.sovereign(request.sovereign)
    if sovereign is None:
        known = ", ".join(s.id for s in config.sovereigns) or "none (tokens.yaml lists no sovereigns)"
        raise ConflictError(
            f"Sovereign '{request.sovereign}' is not in the allocation registry; known: {known}."
        )
    amount = request.amount_ft * E18
    problems: list[str] = []
    kyc = sovereign.kyc
    if kyc.status != "approved":
        problems.append(f"KYC of {sovereign.id} is {kyc.status}, not approved")
    elif kyc.expires is not None and kyc.expires < today:
        problems.append(f"KYC of {sovereign.id} expired on {kyc.expires.isoformat()}")
    if chain is None or chain.holder.lower() == ZERO:
        problems.append(f"{sovereign.id} is not registered on FoundationToken")
    else:
        if chain.holder.lower() != sovereign.address.lower():
            problems.append(f"holder on chain {chain.holder} differs from the registry's {sovereign.address}")
        remaining = chain.cap - chain.issued
        if amount > remaining:
            problems.append(
                f"{request.amount_ft:,} FT exceeds the allocation left on chain ({remaining / E18:,.0f} of "
                f"{chain.cap / E18:,.0f} FT)"
            )
        if chain.issued + amount > sovereign.allocation * E18:
            problems.append(
                f"{request.amount_ft:,} FT takes {sovereign.id} to {(chain.issued + amount) / E18:,.0f} FT, "
                f"above its registry allocation of {sovereign.allocation:,} FT"
            )
    if config.ft_supply_cap is not None and supply + amount > config.ft_supply_cap * E18:
        problems.append(
            f"FT supply would be {(supply + amount) / E18:,.0f}, above the cap of {config.ft_supply_cap:,}"
        )
    if problems or chain is None:
        raise ConflictError(f"Issuance to {sovereign.id} refused: " + "; ".join(problems) + ".")
    return {
        "sovereign": sovereign.id,
        "holder": sovereign.address,
        "amount": str(amount),
        "reason": request.reason.strip(),
        "documents": list(request.documents),
        "balance_before": str(chain.balance),
        "supply_before": str(supply),
        "issued_before": str(chain.issued),
    }
