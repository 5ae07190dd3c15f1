"""CEL rules engine and alert store throughput.

* engine: synthetic decoded-event traffic (real FICTRA ABIs at synthetic addresses, logs encoded with
  eth_abi) through ``RulesEngine`` holding ``rules`` CEL rules spread over several contracts and events
  (a realistic mix: thresholds, allow-lists, string/arith conditions; ~20% of logs hit no rule) ->
  events/s, rule evaluations/s, findings;
* store: findings for ``fingerprints`` distinct conditions applied with dedup to SQLite in batches of
  500 -> findings/s, and the same number of findings each a new alert -> new alerts/s (target >= 2,000/s);
* latency: one block of ``block_logs`` logs through ``AlertPipeline.on_batch`` + commit, ``blocks`` times
  -> block-to-alert p50/p99 ms (target p99 < 250 ms).

``python -m bench rules [--rules-events 50000] [--rules-rules 100] [--rules-store-findings 20000]
[--rules-fingerprints 2000] [--rules-blocks 200] [--rules-block-logs 50]`` writes bench/results/rules.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.chain.artifacts import load
from fictra.chain.decode import EventDecoder, event_decoders
from fictra.chain.types import BlockBatch, Log
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.rules.config import EventRuleConfig
from fictra.rules.engine import RulesEngine
from fictra.rules.synthetic import block, tx

DEFAULTS = {
    "events": 50_000,
    "rules": 100,
    "store_findings": 20_000,
    "fingerprints": 2_000,
    "blocks": 200,
    "block_logs": 50,
}
CONTRACTS = {
    "PaymentToken": "PaymentToken",
    "FoundationToken": "FoundationToken",
    "Reserve": "Reserve",
    "EmergencyController": "EmergencyController",
    "Feed:BRENT": "CommodityFeed",
    "Feed:WTI": "CommodityFeed",
    "Feed:GOLD": "CommodityFeed",
    "Pool": "UniswapV2Pair",
    "Timelock": "FictraTimelock",
}
CONDITIONS = [
    "true",
    "args.value > 1000000",
    "args.value >= 1e24 || args.from == args.to",
    "!(args.account in params.allowed) && !(args.account in known_contracts)",
    "tx.status == 1 && block.number % 2 == 0",
    "size(args) > 1 && contract.startsWith('Feed') == false",
    "args.amount > 0 && args.amount < 1000000000000",
    "has(args.current) && args.current > 100",
]


def _opt(args: argparse.Namespace, name: str) -> int:
    return int(getattr(args, f"rules_{name}", None) or DEFAULTS[name])


def _random_value(rng: random.Random, abi_type: str) -> Any:
    if abi_type.endswith("]"):
        return [_random_value(rng, abi_type[: abi_type.rindex("[")]) for _ in range(2)]
    if abi_type == "address":
        return "0x" + rng.randbytes(20).hex()
    if abi_type == "bool":
        return rng.random() < 0.5
    if abi_type.startswith("uint"):
        bits = min(int(abi_type[4:] or 256), 100)
        return rng.choice([rng.randrange(0, min(10**6, 2**bits)), rng.randrange(0, 2**bits)])
    if abi_type.startswith("int"):
        bound = min(10**6, 2 ** (int(abi_type[3:] or 256) - 1))
        return rng.randrange(-bound, bound)
    if abi_type.startswith("bytes") and abi_type != "bytes":
        return rng.randbytes(int(abi_type[5:]))
    if abi_type == "bytes":
        return rng.randbytes(8)
    return "x" * rng.randrange(1, 12)


def _log(rng: random.Random, address: str, dec: EventDecoder, index: int) -> Log:
    indexed = [_random_value(rng, t) for _, t in dec.indexed]
    topics = [dec.topic0] + [
        "0x" + encode([t], [v]).hex() for (_, t), v in zip(dec.indexed, indexed, strict=True)
    ]
    data = encode(list(dec.data_types), [_random_value(rng, t) for t in dec.data_types]).hex()
    return Log(address, tuple(topics), "0x" + data, index, "0x" + f"{index:064x}", 0, 0, "0x" + "00" * 32)


def setup(n_rules: int, seed: int = 7) -> tuple[RulesEngine, list[tuple[str, EventDecoder]], dict[str, str]]:
    rng = random.Random(seed)
    addresses = {name: "0x" + f"{i + 1:040x}" for i, name in enumerate(CONTRACTS)}
    abis = {addresses[n]: load(a).abi for n, a in CONTRACTS.items()}
    keys = [(n, d) for n in CONTRACTS for d in event_decoders(abis[addresses[n]])]
    rules = []
    for i in range(n_rules):
        name, dec = keys[i % len(keys)] if i < len(keys) else rng.choice(keys)
        arg_names = {n for n, _ in dec.indexed} | set(dec.data_names)
        usable = [
            c
            for c in CONDITIONS
            if all(
                f"args.{a}" not in c or a in arg_names
                for a in ("value", "from", "to", "account", "amount", "current")
            )
        ]
        rules.append(
            EventRuleConfig(
                name=f"r{i}",
                contract=name,
                event=dec.name,
                condition=rng.choice(usable),
                severity=rng.choice(list(Severity)),
                summary="{event} on {contract} in {block.number}",
                label_args=sorted(arg_names)[:1],
                params={"allowed": ["0x" + "ab" * 20]},
            )
        )
    engine = RulesEngine(rules, contracts=addresses, abis=abis)
    traffic = [(addresses[n], d) for n, d in keys]
    return engine, traffic, addresses


def bench_engine(n_events: int, n_rules: int) -> dict[str, Any]:
    engine, traffic, _ = setup(n_rules)
    rng = random.Random(11)
    watched = [(a, d) for a, d in traffic if engine.rules_for_event(a, d.topic0)]
    unwatched_addr = "0x" + "ee" * 20
    logs = []
    for i in range(n_events):
        if rng.random() < 0.8:
            address, dec = rng.choice(watched)
        else:
            address, dec = unwatched_addr, rng.choice(traffic)[1]
        logs.append(_log(rng, address, dec, i))
    blocks = [
        block(1000 + b, (tx(logs=tuple(logs[b * 100 : (b + 1) * 100]), n=b),))
        for b in range(len(logs) // 100)
    ]
    started = time.perf_counter()
    findings = sum(len(engine.evaluate_block(b)) for b in blocks)
    elapsed = time.perf_counter() - started
    events = len(blocks) * 100
    return {
        "engine_rules": engine.rule_count,
        "engine_events": events,
        "engine_events_per_s": round(events / elapsed),
        "engine_evaluations_per_s": round(engine.evaluations / elapsed),
        "engine_findings": findings,
        "engine_eval_errors": sum(e.count for e in engine.errors.values()),
        "engine_decode_errors": engine.decode_errors,
    }


async def bench_store(
    n_findings: int, n_fingerprints: int, workdir: Path, tag: str = "dedup"
) -> dict[str, Any]:
    url = f"sqlite:///{workdir / f'store-{tag}.db'}"
    migrate(url)
    engine = make_engine(url)
    clock = SystemClock()
    findings = [
        Finding(
            monitor="bench",
            severity=Severity.P2,
            summary=f"condition {i % n_fingerprints}",
            labels={"k": str(i % n_fingerprints)},
            block=BlockRef(i, f"0x{i:064x}"),
            evidence={"i": i},
        )
        for i in range(n_findings)
    ]
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        for start in range(0, n_findings, 500):
            await apply_findings(session, findings[start : start + 500], [], head=n_findings, clock=clock)
            await session.commit()
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {
        "store_findings": n_findings,
        "store_alerts": n_fingerprints,
        "store_findings_per_s": round(n_findings / elapsed),
    }


async def bench_latency(n_blocks: int, block_logs: int, n_rules: int, workdir: Path) -> dict[str, Any]:
    url = f"sqlite:///{workdir / 'latency.db'}"
    migrate(url)
    db = make_engine(url)
    rules_engine, traffic, _ = setup(n_rules)
    clock = SystemClock()
    pipeline = AlertPipeline(monitors=[RulesMonitor(rules_engine)], clock=clock)
    rng = random.Random(5)
    watched = [(a, d) for a, d in traffic if rules_engine.rules_for_event(a, d.topic0)]
    factory = session_factory(db)
    latencies = []
    for b in range(n_blocks):
        logs = tuple(_log(rng, *rng.choice(watched), i) for i in range(block_logs))
        batch = BlockBatch(
            "devnet",
            (block(10_000 + b, (tx(logs=logs, n=b),)),),
            head=10_000 + b,
            at_head=True,
            received_at=clock.monotonic(),
        )
        async with factory() as session, session.begin():
            await pipeline.on_batch(batch, session)
        latencies.append((clock.monotonic() - batch.received_at) * 1000)
    await db.dispose()
    latencies.sort()
    return {
        "latency_blocks": n_blocks,
        "latency_logs_per_block": block_logs,
        "latency_p50_ms": round(statistics.median(latencies), 2),
        "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    result = bench_engine(_opt(args, "events"), _opt(args, "rules"))
    with tempfile.TemporaryDirectory(prefix="fictra-bench-rules-") as tmp:
        result |= await bench_store(_opt(args, "store_findings"), _opt(args, "fingerprints"), Path(tmp))
        unique = await bench_store(
            _opt(args, "store_findings"), _opt(args, "store_findings"), Path(tmp), "unique"
        )
        result["store_new_alerts_per_s"] = unique["store_findings_per_s"]
        result |= await bench_latency(
            _opt(args, "blocks"), _opt(args, "block_logs"), _opt(args, "rules"), Path(tmp)
        )
    return result


if __name__ == "__main__":
    import sys

    from bench.__main__ import options

    out = asyncio.run(run(options(sys.argv[1:])))
    Path(__file__).with_name("results").mkdir(exist_ok=True)
    Path(__file__).with_name("results").joinpath("rules.json").write_text(
        json.dumps(out, indent=2, sort_keys=True)
    )
    print(json.dumps(out, indent=2, sort_keys=True))
