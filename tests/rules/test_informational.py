"""Informational rules (``resolve_after_blocks``) resolve by themselves after their last occurrence; one-off
rules stay firing. The open alerts are part of the monitor's snapshot, so a restart resolves them at the
same block."""

from __future__ import annotations

from typing import Any

from fictra.chain.artifacts import load
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine
from fictra.rules.synthetic import FT, PT, RESERVE, batch, block, transfer, tx

CONTRACTS = {"PaymentToken": PT, "Reserve": RESERVE, "FoundationToken": FT}
ABIS = {PT: load("PaymentToken").abi, RESERVE: load("Reserve").abi, FT: load("FoundationToken").abi}
A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
NO_SESSION: Any = None  # the monitor reads the alert store only when it has no snapshot to start from


def monitor() -> RulesMonitor:
    rules = [
        EventRuleConfig.model_validate(
            {"name": "info", "contract": "PaymentToken", "event": "Transfer", "resolve_after_blocks": 3}
        ),
        EventRuleConfig.model_validate({"name": "oneoff", "contract": "PaymentToken", "event": "Transfer"}),
    ]
    engine = RulesEngine(rules, contracts=CONTRACTS, abis=ABIS, network="devnet")
    rm = RulesMonitor(engine, network="devnet")
    rm.restore({})  # a fresh start with an empty snapshot: nothing open
    return rm


async def run(rm: RulesMonitor, number: int, *, moves: bool) -> tuple[list[str], list[str]]:
    txs = (tx(logs=(transfer(PT, A, B, 10),)),) if moves else ()
    out = await rm.on_batch(batch(block(number, txs)), NO_SESSION)
    return sorted(f.monitor for f in out.findings), sorted(c.monitor for c in out.clears)


async def test_informational_rule_resolves_after_its_last_occurrence_one_off_stays() -> None:
    rm = monitor()
    assert await run(rm, 10, moves=True) == (["info", "oneoff"], [])
    assert await run(rm, 11, moves=False) == ([], [])
    assert await run(rm, 12, moves=True) == (["info", "oneoff"], []), "every occurrence is counted"
    assert await run(rm, 14, moves=False) == ([], []), "3 blocks after block 12 is block 15"
    findings, clears = await run(rm, 15, moves=False)
    assert (findings, clears) == ([], ["info"])
    assert await run(rm, 30, moves=False) == ([], []), "the one-off rule never clears by itself"
    assert await run(rm, 31, moves=True) == (["info", "oneoff"], []), "a new occurrence fires it again"


async def test_open_informational_alerts_survive_a_restart_through_the_snapshot() -> None:
    rm = monitor()
    await run(rm, 10, moves=True)
    saved = rm.snapshot()
    restarted = monitor()
    restarted.restore(saved)
    assert await run(restarted, 12, moves=False) == ([], [])
    assert await run(restarted, 13, moves=False) == ([], ["info"])
