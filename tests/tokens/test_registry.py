"""The allocation registry against the chain and the issuance pre-checks, as pure functions."""

from __future__ import annotations

from datetime import date

import pytest

from fictra.errors import ConflictError, UsageError
from fictra.tokens.config import TokensConfig, check_references
from fictra.tokens.issuance import IssuanceRequest, precheck
from fictra.tokens.registry import ZERO, ChainAllocation, reconcile, report_row

E18 = 10**18
A = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
B = "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097"
TODAY = date(2026, 12, 2)


def config(**kyc: object) -> TokensConfig:
    return TokensConfig.model_validate(
        {
            "ft_supply_cap": 3_000_000,
            "sovereigns": [
                {"id": "SOVEREIGN-1", "participant": "Aldoria", "country": "CH", "address": A,
                 "allocation": 10_000_000, "kyc": kyc or {"status": "approved", "expires": "2030-12-31"}},
            ],
        }
    )  # fmt: skip


def chain(**kw: object) -> ChainAllocation:
    base: dict[str, object] = dict(
        sovereign_id="SOVEREIGN-1", holder=A, cap=10_000_000 * E18, issued=1_000_000 * E18,
        balance=1_000_000 * E18, votes=1_000_000 * E18, delegate=A,
    )  # fmt: skip
    base.update(kw)
    return ChainAllocation(**base)  # type: ignore[arg-type]


def test_registry_and_chain_agree_then_each_difference_is_named() -> None:
    s = config().sovereigns[0]
    assert reconcile(s, chain()) == [] and report_row(s, chain())["remaining_ft"] == 9_000_000
    kinds = [(f.kind, f.text) for f in reconcile(s, chain(holder=B, cap=5 * E18, delegate=ZERO))]
    assert [k for k, _ in kinds] == ["allocation_mismatch", "allocation_mismatch", "votes_not_delegated"]
    assert f"holder on chain {B} != registry {A}" in kinds[0][1]
    assert "allocation on chain 5 FT != registry 10,000,000" in kinds[1][1]
    assert "delegated to nobody" in kinds[2][1]
    [missing] = reconcile(s, chain(holder=ZERO))
    assert missing.text == "SOVEREIGN-1 is not registered on FoundationToken"


def test_precheck_passes_with_the_before_values_for_verification() -> None:
    params = precheck(
        config(), IssuanceRequest("SOVEREIGN-1", 500, "Q4", ("ab" * 32,)), chain=chain(), supply=2 * 10**24,
        today=TODAY,
    )  # fmt: skip
    assert params == {
        "sovereign": "SOVEREIGN-1", "holder": A, "amount": str(500 * E18), "reason": "Q4",
        "documents": ["ab" * 32], "balance_before": str(1_000_000 * E18), "supply_before": str(2 * 10**24),
        "issued_before": str(1_000_000 * E18),
    }  # fmt: skip


def test_precheck_refuses_naming_every_failed_check() -> None:
    with pytest.raises(ConflictError) as refused:
        precheck(
            config(status="approved", expires="2026-01-01"),
            IssuanceRequest("SOVEREIGN-1", 9_500_000, "too much"),
            chain=chain(),
            supply=2_000_000 * E18,
            today=TODAY,
        )
    text = refused.value.user_message
    assert "KYC of SOVEREIGN-1 expired on 2026-01-01" in text
    assert "9,500,000 FT exceeds the allocation left on chain (9,000,000 of 10,000,000 FT)" in text
    assert "above its registry allocation of 10,000,000 FT" in text
    assert "FT supply would be 11,500,000, above the cap of 3,000,000" in text
    with pytest.raises(ConflictError, match="KYC of SOVEREIGN-1 is pending"):
        precheck(
            config(status="pending"),
            IssuanceRequest("SOVEREIGN-1", 1, "x"),
            chain=chain(),
            supply=0,
            today=TODAY,
        )
    with pytest.raises(
        ConflictError, match="'SOVEREIGN-9' is not in the allocation registry; known: SOVEREIGN-1"
    ):
        precheck(config(), IssuanceRequest("SOVEREIGN-9", 1, "x"), chain=chain(), supply=0, today=TODAY)
    with pytest.raises(UsageError, match="positive"):
        precheck(config(), IssuanceRequest("SOVEREIGN-1", 0, "x"), chain=chain(), supply=0, today=TODAY)
    with pytest.raises(UsageError, match="sha256"):
        precheck(
            config(), IssuanceRequest("SOVEREIGN-1", 1, "x", ("nope",)), chain=chain(), supply=0, today=TODAY
        )


def test_duplicate_sovereign_ids_are_named() -> None:
    cfg = config()
    doubled = cfg.model_copy(update={"sovereigns": [*cfg.sovereigns, cfg.sovereigns[0]]})
    assert check_references(doubled, contracts=None) == [
        "tokens.yaml:sovereigns.1.id: 'SOVEREIGN-1' is listed twice (also sovereigns.0)."
    ]
