"""p99 time to change one alert's status with up to 1,000,000 alerts stored (target < 20 ms, flat).

The store is filled in steps (``10k``, ``100k``, ``1M`` by default) with bulk ``executemany`` inserts of
alerts (5% firing, the rest resolved) and their ``alert_response`` rows. At each size, ``ops`` firing
alerts picked at random are acknowledged and as many resolved through the product path
(:func:`fictra.response.actions.acknowledge` / ``resolve``: conditional UPDATE, timeline event, response
row, hash-chained audit entry, one transaction each), timing each transaction from begin to commit.

``python -m bench response [--response-sizes 10000,100000,1000000] [--response-ops 200]
[--response-db sqlite|postgresql]`` writes bench/results/response.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from fictra.alerting.models import Alert
from fictra.auth.actor import cli_actor
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory, sync_engine_for
from fictra.response import actions
from fictra.response.context import ResponseContext
from fictra.response.loader import ResponseConfig
from fictra.response.models import AlertResponse
from fictra.response.scheduled import tick

TARGET_MS = 20.0
CHUNK = 20_000
PG_URL = os.environ.get("FICTRA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def _rows(start: int, stop: int, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    alerts, responses = [], []
    for i in range(start, stop):
        firing = i % 20 == 0
        fired = now - timedelta(seconds=i % 86_400)
        severity = f"P{i % 4}"
        alerts.append(
            {
                "id": i + 1,
                "network": "devnet",
                "fingerprint": f"{i:032x}",
                "monitor": f"bench-{i % 50}",
                "severity": severity,
                "status": "firing" if firing else "resolved",
                "confirmation": "confirmed",
                "required_confirmations": 0,
                "summary": f"bench alert {i}",
                "labels": {"case": str(i), "team": "operations"},
                "evidence": {"observed": i},
                "history": [],
                "block_number": None,
                "block_hash": None,
                "confirm_at": None,
                "tx_hashes": [],
                "count": 1,
                "first_seen": fired,
                "last_seen": fired,
                "fired_at": fired,
                "resolved_at": None if firing else fired + timedelta(minutes=5),
                "ack_deadline": fired + timedelta(minutes=15),
                "acknowledged_at": None,
                "acknowledged_by": None,
                "retraction_reason": None,
            }
        )
        responses.append(
            {
                "alert_id": i + 1,
                "active": firing,
                "severity": severity,
                "team": "operations",
                "policy": "runbook",
                "level": 0,
                "loop": 0,
                "fired_at": fired,
                "ack_deadline": now + timedelta(minutes=15),  # steady state: nothing due yet
                "resolve_deadline": now + timedelta(hours=4),
                "acknowledged_at": None,
                "ack_breached": False,
                "resolve_breached": False,
                "next_escalation_at": now + timedelta(minutes=15) if firing else None,
                "snoozed_until": None,
                "assignee": None,
                "muted_by": None,
                "updated_at": fired,
            }
        )
    return alerts, responses


def _fill(url: str, start: int, stop: int) -> float:
    """Bulk-insert alerts [start, stop) with executemany; seconds taken."""
    engine = sync_engine_for(url)
    now = datetime.now(UTC)
    began = time.perf_counter()
    with engine.begin() as conn:
        for lo in range(start, stop, CHUNK):
            alerts, responses = _rows(lo, min(lo + CHUNK, stop), now)
            conn.execute(insert(Alert), alerts)
            conn.execute(insert(AlertResponse), responses)
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('alerts', 'id'), (SELECT max(id) FROM alerts))")
            )
            conn.execute(text("ANALYZE alerts"))
            conn.execute(text("ANALYZE alert_response"))
    if engine.dialect.name == "sqlite":  # steady state: the bulk load checkpointed, statistics fresh
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return time.perf_counter() - began


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _measure(url: str, size: int, ops: int, rng: random.Random, used: set[int]) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    ctx = ResponseContext(config=ResponseConfig(), clock=SystemClock())
    who = cli_actor("bench")
    firing = [i + 1 for i in range(size) if i % 20 == 0 and i + 1 not in used]
    picked = rng.sample(firing, min(len(firing), 2 * ops + 10))
    used.update(picked)
    timings: dict[str, list[float]] = {"acknowledge": [], "resolve": []}
    warmup = 10  # connection set-up and first statements of each kind (not timed)
    try:
        async with sessions() as session:
            stored = (await session.execute(select(func.count()).select_from(Alert))).scalar_one()
        for n, alert_id in enumerate(picked):
            kind = "acknowledge" if n % 2 == 0 else "resolve"
            began = time.perf_counter()
            async with sessions.begin() as session:
                if kind == "acknowledge":
                    await actions.acknowledge(session, alert_id=alert_id, actor=who, ctx=ctx)
                else:
                    await actions.resolve(session, alert_id=alert_id, actor=who, ctx=ctx)
            if n >= warmup:
                timings[kind].append((time.perf_counter() - began) * 1000)
    except BaseException:
        await engine.dispose()
        raise
    ticks = []
    try:
        for _ in range(20):  # the escalation/SLA tick when nothing is due (its steady state)
            began = time.perf_counter()
            async with sessions.begin() as session:
                await tick(session, ctx)
            ticks.append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    every = timings["acknowledge"] + timings["resolve"]
    return {
        "stored_alerts": stored,
        "ops": len(every),
        "p50_ms": round(statistics.median(every), 2),
        "p99_ms": round(_pct(every, 0.99), 2),
        "max_ms": round(max(every), 2),
        "acknowledge_p99_ms": round(_pct(timings["acknowledge"], 0.99), 2),
        "resolve_p99_ms": round(_pct(timings["resolve"], 0.99), 2),
        "idle_tick_p50_ms": round(statistics.median(ticks), 2),
        "idle_tick_max_ms": round(max(ticks), 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = [int(s) for s in str(getattr(args, "response_sizes", None) or "10000,100000,1000000").split(",")]
    ops = int(getattr(args, "response_ops", None) or 200)
    backend = str(getattr(args, "response_db", None) or "sqlite")
    if sorted(sizes) != sizes or sizes[0] < 20 * (2 * ops + 10) or sizes[-1] > 5_000_000:
        raise SystemExit(
            f"--response-sizes {sizes}: ascending, the first at least {20 * (2 * ops + 10)}, "
            "at most 5,000,000."
        )
    rng = random.Random(7)
    tmp = tempfile.TemporaryDirectory(prefix="fictra-bench-response-")
    schema = None
    if backend == "postgresql":
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    results: list[dict[str, Any]] = []
    try:
        migrate(url)
        loaded = 0
        used: set[int] = set()
        for size in sizes:
            fill_s = _fill(url, loaded, size)
            loaded = size
            row = {
                "size": size,
                "fill_seconds": round(fill_s, 1),
                **await _measure(url, size, ops, rng, used),
            }
            results.append(row)
            print(
                f"response: {size:>9,} alerts  p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms  "
                f"idle tick {row['idle_tick_p50_ms']:.1f} ms  "
                f"(fill {fill_s:.0f}s)",
                flush=True,
            )
    finally:
        if schema is not None:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        tmp.cleanup()
    worst = max(r["p99_ms"] for r in results)
    return {
        "backend": backend,
        "what": "one alert's status change (acknowledge or resolve: update, timeline, response row, "
        "audit entry), one transaction",
        "target_p99_ms": TARGET_MS,
        "sizes": results,
        "worst_p99_ms": worst,
        "flat_ratio": round(results[-1]["p99_ms"] / results[0]["p99_ms"], 2)
        if results[0]["p99_ms"]
        else None,
        "meets_target": worst < TARGET_MS,
    }
