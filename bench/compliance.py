"""Compliance: screening plus AML typologies at the head, and re-screening after a new list version.

* head: a generated stream (``fictra.devnet.typologies``: normal traffic with planted typologies) packed
  into blocks with PaymentToken Transfer logs, against a 20,000-entry list in force, through the screening
  monitor and the alert pipeline (SQLite, one transaction per block, as the follower runs it) ->
  transfers/s on one core, per-block p50/p99 ms; and the in-memory core alone (log decoding, list lookup,
  typologies; no database) -> transfers/s;
* rescreen: a 20,000-entry OpenSanctions FtM list (names, aliases, one wallet each) imported (timed), then
  every one of 100,000 known addresses and 10,000 KYC names re-screened against it (timed), hits written.

``python -m bench compliance [--compliance-blocks 600] [--compliance-per-block 100]
[--compliance-entries 20000] [--compliance-addresses 100000] [--compliance-names 10000]``
writes bench/results/compliance.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench._common import machine, pct
from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.types import BlockBatch
from fictra.clock import FakeClock
from fictra.compliance.config import AmlConfig, ComplianceConfig
from fictra.compliance.lists import import_list
from fictra.compliance.models import KnownAddress, KycRecord
from fictra.compliance.monitor import ScreeningMonitor
from fictra.compliance.screening import load_index, rescreen
from fictra.compliance.transfers import transfers_of
from fictra.compliance.typologies import TypologyDetector
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.typologies import blocks_of, generate
from fictra.monitors.pipeline import AlertPipeline

PT = "0x" + "a1" * 20
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + [
    "tr",
    "st",
    "sh",
    "ch",
    "x",
    "n",
    "l",
    "r",
]


def _name(rng: random.Random) -> str:
    words = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        for _ in range(rng.randint(2, 3))
    ]
    return " ".join(words)


def _address(seed: str) -> str:
    return "0x" + hashlib.sha256(seed.encode()).hexdigest()[:40]


def _ftm(entries: int, rng: random.Random) -> tuple[bytes, list[str], list[str]]:
    lines, names, addresses = [], [], []
    for i in range(entries):
        name = _name(rng)
        names.append(name)
        schema = "Person" if i % 2 else "Organization"
        props: dict[str, list[str]] = {"name": [name]}
        if i % 3 == 0:
            props["alias"] = [_name(rng)]
        lines.append(json.dumps({"id": f"e{i}", "schema": schema, "properties": props}))
        address = _address(f"listed:{i}")
        addresses.append(address)
        lines.append(
            json.dumps(
                {
                    "id": f"w{i}",
                    "schema": "CryptoWallet",
                    "properties": {"publicKey": [address], "holder": [f"e{i}"]},
                }
            )
        )
    return ("\n".join(lines) + "\n").encode(), names, addresses


def _manifest() -> Manifest:
    return Manifest(
        chain_id=31337,
        rpc_url="http://127.0.0.1:8545",
        contracts={"PaymentToken": ContractEntry(address=PT, artifact="PaymentToken")},
    )


async def _head(args: argparse.Namespace, tmp: Path, ftm: bytes) -> dict[str, Any]:
    blocks = int(getattr(args, "compliance_blocks", None) or 600)
    per_block = int(getattr(args, "compliance_per_block", None) or 100)
    population = max(20_000, per_block * 600)  # ~1 payment per account per 10-minute window (sparse, as real)
    gen = generate(
        seed=5, blocks=blocks, normal_per_block=per_block, population=population, dormant_after=300
    )
    chain_blocks = list(blocks_of(gen, token_address=PT))
    config = ComplianceConfig(aml=AmlConfig(dormant_after=timedelta(seconds=300)))
    # in-memory core: decode, list lookup, typologies
    url = f"sqlite:///{tmp / 'head.db'}"
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    async with sessions.begin() as session:
        await import_list(
            session,
            list_name="os",
            fmt="opensanctions_ftm",
            data=ftm,
            file_name="os.json",
            actor="bench",
            clock=clock,
        )
        index = await load_index(session)
    detector = TypologyDetector(config.aml)
    tokens = {PT: "PaymentToken"}
    started = time.perf_counter()
    n = listed = 0
    for block in chain_blocks:
        batch = list(transfers_of(block, tokens))
        n += len(batch)
        listed += sum((t.sender in index.addresses) + (t.recipient in index.addresses) for t in batch)
        detector.observe(batch)
    core_s = time.perf_counter() - started
    # the monitor through the alert pipeline, one transaction per block
    monitor = ScreeningMonitor(config=config, manifest=_manifest(), clock=clock)
    pipeline = AlertPipeline(monitors=[monitor], clock=clock)
    async with sessions.begin() as session:  # start-up: the lists in force loaded, known addresses screened
        await monitor.refresh(session)
    per_block_ms: list[float] = []
    started = time.perf_counter()
    for block in chain_blocks:
        t0 = time.perf_counter()
        async with sessions.begin() as session:
            await pipeline.on_batch(
                BlockBatch(network="devnet", blocks=(block,), head=block.number, at_head=True), session
            )
        per_block_ms.append((time.perf_counter() - t0) * 1000)
    pipeline_s = time.perf_counter() - started
    # after the issuance phase (the first tenth: every participant's first PT, thousands of new addresses per
    # block written to the known addresses) the chain is in its steady state
    warm = len(chain_blocks) // 10
    steady_ms = per_block_ms[warm:]
    steady_n = sum(len(b.txs) for b in chain_blocks[warm:])
    await engine.dispose()
    return {
        "blocks": len(chain_blocks),
        "transfers": n,
        "transfers_per_block_mean": round(n / max(1, len(chain_blocks)), 1),
        "list_entries": index and len(index.entries),
        "core_transfers_per_s": round(n / core_s),
        "pipeline_transfers_per_s": round(n / pipeline_s),
        "per_block_ms_p50": round(pct(per_block_ms, 0.5), 2),
        "per_block_ms_p99": round(pct(per_block_ms, 0.99), 2),
        "steady_transfers_per_s": round(steady_n / (sum(steady_ms) / 1000)),
        "steady_per_block_ms_p50": round(pct(steady_ms, 0.5), 2),
        "steady_per_block_ms_p99": round(pct(steady_ms, 0.99), 2),
        "typology_hits": sum(1 for _ in detector.reported),
        "target_transfers_per_s": 10_000,
    }


async def _rescreen(
    args: argparse.Namespace, tmp: Path, ftm: bytes, names: list[str], listed: list[str]
) -> dict[str, Any]:
    n_addresses = int(getattr(args, "compliance_addresses", None) or 100_000)
    n_names = int(getattr(args, "compliance_names", None) or 10_000)
    rng = random.Random(9)
    url = f"sqlite:///{tmp / 'rescreen.db'}"
    migrate(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    clock = FakeClock(datetime(2027, 1, 1, tzinfo=UTC))
    now = clock.now()
    known = [_address(f"known:{i}") for i in range(n_addresses - n_addresses // 100)] + rng.sample(
        listed, n_addresses // 100
    )
    people = [_name(rng) for _ in range(n_names - n_names // 100)] + [
        n.upper() for n in rng.sample(names, n_names // 100)
    ]
    async with sessions.begin() as session:
        for chunk in range(0, len(known), 5_000):
            await session.execute(
                insert(KnownAddress),
                [
                    {"address": a, "first_block": 1, "first_seen_at": now}
                    for a in known[chunk : chunk + 5_000]
                ],
            )
        await session.execute(
            insert(KycRecord),
            [
                {
                    "participant": f"p{i}",
                    "name": name,
                    "role": "counterparty",
                    "addresses": [],
                    "status": "approved",
                    "risk_rating": "low",
                    "review_due": None,
                    "expires_at": None,
                    "documents": [],
                    "updated_by": "bench",
                    "updated_at": now,
                }
                for i, name in enumerate(people)
            ],
        )
    started = time.perf_counter()
    async with sessions.begin() as session:
        result = await import_list(
            session,
            list_name="os",
            fmt="opensanctions_ftm",
            data=ftm,
            file_name="os.json",
            actor="bench",
            clock=clock,
        )
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions.begin() as session:
        index = await load_index(session)
        index_s = time.perf_counter() - started
        screened = await rescreen(session, index=index, threshold=0.9, clock=clock, actor="bench")
    rescreen_s = time.perf_counter() - started
    await engine.dispose()
    return {
        "list_entries": result.version.entry_count,
        "list_names_and_aliases": len(index.names),
        "import_s": round(import_s, 2),
        "addresses": screened.addresses,
        "names": screened.names,
        "hits_opened": len(screened.opened),
        "index_load_s": round(index_s, 2),
        "rescreen_s": round(rescreen_s, 2),
        "names_per_s": round(screened.names / rescreen_s),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    entries = int(getattr(args, "compliance_entries", None) or 20_000)
    ftm, names, listed = _ftm(entries, random.Random(3))
    with tempfile.TemporaryDirectory(prefix="fictra-bench-compliance-") as tmp:
        head = await _head(args, Path(tmp), ftm)
        again = await _rescreen(args, Path(tmp), ftm, names, listed)
    return {"machine": machine(), "head": head, "rescreen": again}


if __name__ == "__main__":
    import asyncio

    print(json.dumps(asyncio.run(run(argparse.Namespace())), indent=2))
