"""Domains whose defaults name contracts (the reserve's proof, the PT pool monitor) stay off, with a note,
on a deployment without those contracts — unless the config asks for them explicitly."""

from __future__ import annotations

from fictra.economics.config import EconomicsConfig
from fictra.economics.config import check_references as economics_refs
from fictra.reserve.config import ReserveConfig
from fictra.reserve.config import check_references as reserve_refs


def test_defaults_on_a_deployment_without_the_contracts_are_a_note_not_a_refusal() -> None:
    notes: list[str] = []
    assert reserve_refs(ReserveConfig(), contracts=["Governor"], notes=notes) == []
    assert economics_refs(EconomicsConfig(), contracts=["Governor"], notes=notes) == []
    assert any("proof of reserve is off" in n and "'Reserve'" in n for n in notes), notes
    assert any("PT pool monitor is off" in n and "Pool:PT-CASH" in n for n in notes), notes


def test_an_explicit_block_naming_a_missing_contract_is_refused() -> None:
    reserve = ReserveConfig.model_validate({"proof": {"reserve": "Vault"}})
    [problem] = [p for p in reserve_refs(reserve, contracts=["PaymentToken"]) if "Vault" in p]
    assert problem.startswith("reserve.yaml:proof.reserve: contract 'Vault' is not in the deployment")
    pool = EconomicsConfig.model_validate({"pool": {"pool": "Pool:PT-USD"}})
    assert economics_refs(pool, contracts=["PaymentToken"]) == [
        "economics.yaml:pool.pool: contract 'Pool:PT-USD' is not in the deployment manifest."
    ]
