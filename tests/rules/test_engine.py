"""The CEL rules engine: indexing, decoding, findings, params, and evaluation errors that never crash."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils import function_signature_to_4byte_selector

from fictra.alerting.findings import Severity
from fictra.chain.artifacts import load
from fictra.errors import ConfigError
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine
from fictra.rules.literals import inline_params
from fictra.rules.synthetic import FT, PT, RESERVE, batch, block, event_log, topic, transfer, tx

ATTACKER = "0x" + "ee" * 20
ADMIN = "0x" + "ad" * 20
CONTRACTS = {"PaymentToken": PT, "Reserve": RESERVE, "FoundationToken": FT}
ABIS = {PT: load("PaymentToken").abi, RESERVE: load("Reserve").abi, FT: load("FoundationToken").abi}
TRANSFER = topic("Transfer(address,address,uint256)")


def rule(**kw: Any) -> EventRuleConfig:
    base: dict[str, Any] = {"name": "r", "contract": "PaymentToken", "event": "Transfer"}
    return EventRuleConfig.model_validate({**base, **kw})


def engine(*rules: EventRuleConfig) -> RulesEngine:
    return RulesEngine(rules, contracts=CONTRACTS, abis=ABIS, network="devnet")


def test_each_event_meets_only_the_rules_of_its_contract_and_topic() -> None:
    eng = engine(
        rule(name="pt-transfer-a"),
        rule(name="pt-transfer-b", condition="args.value > 5"),
        rule(name="ft-transfer", contract="FoundationToken"),
        rule(name="pt-fee", event="FeeChanged"),
        rule(name="reserve-withdraw", contract="Reserve", event="Withdrawn"),
    )
    assert eng.rule_count == 5
    assert [r.config.name for r in eng.rules_for_event(PT, TRANSFER)] == ["pt-transfer-a", "pt-transfer-b"]
    assert [r.config.name for r in eng.rules_for_event(FT.upper().replace("0X", "0x"), TRANSFER)] == [
        "ft-transfer"
    ]
    assert eng.rules_for_event(RESERVE, TRANSFER) == []
    findings = eng.evaluate_batch(batch(block(7, (tx(logs=(transfer(PT, ADMIN, ATTACKER, 10),)),))))
    assert sorted(f.monitor for f in findings) == ["pt-transfer-a", "pt-transfer-b"]
    assert eng.evaluations == 2  # the FT, fee and reserve rules never ran
    eng.evaluate_batch(batch(block(8, (tx(logs=(transfer("0x" + "99" * 20, ADMIN, ATTACKER, 10),)),))))
    assert eng.evaluations == 2  # an unwatched contract costs one dict lookup


def test_finding_has_rendered_summary_stable_labels_and_evidence() -> None:
    eng = engine(
        rule(
            name="large-pt-transfer",
            condition="args.value >= 1e24 && contract == 'PaymentToken'",
            severity="P1",
            confirmations=3,
            summary="Large PT transfer of {args.value} from {args.from}",
            label_args=["from"],
            labels={"team": "treasury"},
        )
    )
    big = 2 * 10**24
    logs = (
        transfer(PT, ADMIN.upper().replace("0X", "0x"), ATTACKER, big),
        transfer(PT, ADMIN, ATTACKER, 1, index=1),
    )
    [f] = eng.evaluate_block(block(9, (tx(logs=logs, n=3),)))
    assert f.summary == f"Large PT transfer of {big} from {ADMIN}"
    assert f.severity == Severity.P1 and f.confirmations == 3
    assert f.labels == {
        "team": "treasury",
        "rule": "large-pt-transfer",
        "contract": "PaymentToken",
        "event": "Transfer",
        "from": ADMIN,
    }
    assert f.block is not None and f.block.number == 9
    assert f.tx_hashes == ("0x" + f"{3:064x}",)
    assert f.evidence["args"] == {"from": ADMIN, "to": ATTACKER, "value": big}  # ints stay ints
    # same condition again (another tx, same sender) -> same fingerprint; another sender -> another one
    [g] = eng.evaluate_block(block(10, (tx(logs=(transfer(PT, ADMIN, FT, big),), n=4),)))
    [h] = eng.evaluate_block(block(10, (tx(logs=(transfer(PT, ATTACKER, FT, big),), n=5),)))
    assert f.fingerprint == g.fingerprint != h.fingerprint


def test_params_and_known_contracts_are_usable_in_conditions() -> None:
    eng = engine(
        rule(
            name="role-unlisted",
            event="RoleGranted",
            label_args=["account", "role"],
            condition="!(args.account in params.allowed) && !(args.account in known_contracts)",
            params={"allowed": [ADMIN.upper().replace("0X", "0x")]},
        )
    )
    role = b"\x01" * 32

    def grant(account: str) -> Any:
        return event_log(
            PT,
            "RoleGranted(bytes32,address,address)",
            [("bytes32", role), ("address", account), ("address", ADMIN)],
            [],
        )

    findings = eng.evaluate_block(block(1, (tx(logs=(grant(ADMIN), grant(RESERVE), grant(ATTACKER))),)))
    assert [f.labels["account"] for f in findings] == [ATTACKER]
    assert findings[0].labels["role"] == "0x" + "01" * 32  # bytes as hex


def test_tx_rules_are_indexed_by_to_and_selector() -> None:
    eng = engine(
        rule(
            name="failed-withdraw",
            contract="Reserve",
            event=None,
            function="withdraw",
            condition="tx.status == 0",
            summary="Reverted withdraw of {args.amount} by {tx.from}",
        )
    )
    selector = "0x" + function_signature_to_4byte_selector("withdraw(address,uint256,address)").hex()
    calldata = selector + encode(["address", "uint256", "address"], [FT, 5, ATTACKER]).hex()
    txs = (
        tx(to=RESERVE, data=calldata, status=0, n=1),
        tx(to=RESERVE, data=calldata, status=1, n=2),
        tx(to=PT, data=calldata, status=0, n=3),  # same selector, other contract
    )
    [f] = eng.evaluate_block(block(3, txs))
    assert f.summary == "Reverted withdraw of 5 by 0x" + "aa" * 20
    assert f.labels["function"] == "withdraw"
    assert len(eng.rules_for_call(RESERVE, selector)) == 1


def test_evaluation_errors_are_counted_and_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    eng = engine(
        rule(name="broken", condition="args.missing > 1"),
        rule(name="not-bool", condition="args.value"),
        rule(name="fine"),
    )
    logs = tuple(transfer(PT, ADMIN, ATTACKER, 5, index=i) for i in range(3))
    with caplog.at_level(logging.WARNING, logger="fictra.rules.engine"):
        findings = eng.evaluate_block(block(1, (tx(logs=logs),)))
    assert [f.monitor for f in findings] == ["fine"] * 3
    assert eng.errors["broken"].count == 3 and "missing" in eng.errors["broken"].first_message
    assert eng.errors["not-bool"].count == 3 and "not a bool" in eng.errors["not-bool"].first_message
    assert sum("broken" in r.getMessage() for r in caplog.records) == 1
    assert any(line.startswith("broken: 3 evaluation error(s)") for line in eng.error_report())


def test_logs_that_do_not_decode_are_counted_not_raised() -> None:
    eng = engine(rule(name="t"))
    bad = transfer(PT, ADMIN, ATTACKER, 1)
    bad = type(bad)(**{**{s: getattr(bad, s) for s in bad.__slots__}, "topics": bad.topics[:2]})
    assert eng.evaluate_block(block(1, (tx(logs=(bad,)),))) == []
    assert eng.decode_errors == 1


def test_disabled_rules_are_not_indexed() -> None:
    eng = engine(rule(name="off", enabled=False))
    assert eng.rule_count == 0 and eng.rules_for_event(PT, TRANSFER) == []


def test_build_errors_name_every_bad_rule() -> None:
    with pytest.raises(ConfigError) as info:
        RulesEngine(
            [
                rule(name="a", contract="Nope"),
                rule(name="b", event="NoSuchEvent"),
                rule(name="c", contract="Gone"),
                rule(name="d", label_args=["value", "amount"]),
            ],
            contracts={**CONTRACTS, "Gone": "0x" + "44" * 20},
            abis=ABIS,
        )
    msg = info.value.user_message
    assert "rule 'a': unknown contract 'Nope'" in msg
    assert "rule 'b': PaymentToken has no event 'NoSuchEvent'" in msg
    assert "rule 'c': no ABI for Gone" in msg
    assert "rule 'd': Transfer has no argument amount" in msg


def test_inline_params_leaves_string_literals_alone() -> None:
    out = inline_params(
        "params.x == 'params' && y in known_contracts && z.params == 1",
        {"x": "a'b"},
        known_contracts=["0xab"],
    )
    assert out == '{"x": "a\'b"}.x == \'params\' && y in ["0xab"] && z.params == 1'
    assert inline_params("params.n > 1", {"n": 10**30}, known_contracts=[]) == '{"n": 1e+30}.n > 1'
