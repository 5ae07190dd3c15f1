"""Transfers from several senders concentrating into one address unknown to the deployment: one P1 about
the receiver, cleared when the window no longer holds it; the window survives a restart (snapshot)."""

from __future__ import annotations

from typing import Any

from fictra.alerting.findings import Severity
from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.types import Block
from fictra.monitors.concentration import ConcentrationCheck
from fictra.monitors.config import ConcentrationMonitor
from fictra.rules.synthetic import PT, batch, block, transfer, tx

E18 = 10**18
TRADERS = ["0x" + f"{i:02x}" * 20 for i in range(0x40, 0x46)]
FRESH, POOL = "0x" + "fe" * 20, "0x" + "99" * 20
NO_SESSION: Any = None
MANIFEST = Manifest(
    chain_id=31337,
    rpc_url="http://127.0.0.1:8545",
    contracts={
        "PaymentToken": ContractEntry(address=PT, artifact="PaymentToken"),
        "Pool:PT-CASH": ContractEntry(address=POOL, artifact="UniswapV2Pair"),
    },
    roles={"traders": TRADERS},
)


def monitor() -> ConcentrationCheck:
    config = ConcentrationMonitor.model_validate(
        {
            "type": "concentration",
            "name": "conc",
            "thresholds": {"window": "60s", "min_amount": 200_000 * E18},
        }
    )
    check = ConcentrationCheck(config=config, manifest=MANIFEST)
    check.restore({})
    return check


def moves(number: int, *pairs: tuple[str, str, int]) -> Block:
    txs = tuple(tx(logs=(transfer(PT, a, b, v * E18, index=i),), n=i) for i, (a, b, v) in enumerate(pairs))
    return block(number, txs)  # block timestamps advance one second per block


async def test_six_traders_into_one_fresh_address_is_one_p1_about_the_receiver() -> None:
    check = monitor()
    out = await check.on_batch(batch(moves(10, *[(t, FRESH, 80_000) for t in TRADERS])), NO_SESSION)
    (finding,) = out.findings
    assert finding.severity is Severity.P1
    assert finding.labels == {"contract": "PaymentToken", "condition": "concentration", "receiver": FRESH}
    assert finding.evidence["senders"] == sorted(TRADERS) and finding.evidence["total"] == str(480_000 * E18)
    assert len(finding.tx_hashes) == 6
    again = await check.on_batch(batch(moves(11, (TRADERS[0], FRESH, 10))), NO_SESSION)
    assert again.findings == [] and again.clears == [], "a condition that holds is reported once"
    restarted = monitor()
    restarted.restore(check.snapshot())
    done = await restarted.on_batch(batch(moves(75)), NO_SESSION)
    assert [c.labels["receiver"] for c in done.clears] == [FRESH], "out of the window: cleared"


async def test_known_receivers_one_sender_or_small_amounts_are_not_a_concentration() -> None:
    check = monitor()
    out = await check.on_batch(
        batch(
            moves(
                10,
                *[(t, POOL, 100_000) for t in TRADERS],  # a manifest contract
                *[(t, TRADERS[0], 100_000) for t in TRADERS[1:]],  # a role holder
                (TRADERS[0], FRESH, 500_000),  # one sender: a (large) transfer, not a concentration
                *[(t, "0x" + "ab" * 20, 1_000) for t in TRADERS],  # many senders, small total
            )
        ),
        NO_SESSION,
    )
    assert out.findings == []
