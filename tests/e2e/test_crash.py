"""The crash drill: kill -9 of the platform at random points during catch-up of a chain with bursts and
scenarios, restarts, and the outcome compared with an uninterrupted run of the same chain.

Same alert set, the same occurrences (count, history, events), anchors (block number and hash), evidence
and chart series — on SQLite and PostgreSQL (the reference run is on SQLite, so the backends are compared
too). Only what depends on the wall clock is left out (times, and the polled node-health and access
monitors). The kill points are drawn from a seeded RNG; the seed is printed, and ``FICTRA_CRASH_SEED``
replays a failing drill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import DateTime, MetaData, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from e2e.harness import devnet_config
from fictra.chain.models import ChainCheckpoint
from fictra.db.engine import make_engine, session_factory
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.scenarios import ScenarioContext, ScenarioOptions, ScenarioStore, run_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DRIVER = Path(__file__).with_name("crash_driver.py")
KILLS = 3  # per backend: each restart costs a platform start-up (~2 s idle); 3 kills + the final run
PT = 10**18
# what an uninterrupted run and a drill are compared on; times and surrogate ids are left out
COMPARED = ("alerts", "alert_events", "alert_occurrences", "series_samples", "anomaly_baselines")
WALL_CLOCK_KEYS = {"at", "seen_at", "first_seen", "last_seen", "fired_at", "resolved_at", "updated_at"}
# surrogate ids inside JSON (a PostgreSQL sequence value consumed by a killed transaction is not reused)
SURROGATE_KEYS = {"occurrence_id"}


# -- driving the platform -----------------------------------------------------------------------------


async def _checkpoint(db: Path | str, engine: AsyncEngine | None = None) -> int:
    """The driver's checkpoint (a SQLite file or a database URL); -1 until the DB is migrated."""
    if isinstance(db, Path) and not db.exists():
        return -1
    own = engine is None
    eng = engine or make_engine(db if isinstance(db, str) else f"sqlite:///{db}")
    try:
        async with session_factory(eng)() as session:
            row = await session.scalar(select(ChainCheckpoint.block_number))
            return int(row) if row is not None else -1
    except (OperationalError, DBAPIError):  # not migrated yet
        return -1
    finally:
        if own:
            await eng.dispose()


def _alive(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise AssertionError(f"the platform exited with {proc.returncode}: {err[-3000:]}")


def _start(
    data: Path, config: Path, manifest: Path, first: int, *, database_url: str | None = None
) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(DRIVER), str(data), str(config), str(manifest), str(first)]
    env = dict(os.environ)
    if database_url is not None:
        env["FICTRA_DATABASE_URL"] = database_url
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


async def _until(engine: AsyncEngine, proc: subprocess.Popen[bytes], block: int, *, seconds: float) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    while (done := await _checkpoint("", engine)) < block:
        _alive(proc)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the platform is stuck at block {done} (waiting for {block})")
        await asyncio.sleep(0.005)
    return done


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


async def _run(
    chain: DrillChain, data: Path, url: str, *, kills: int, rng: random.Random
) -> list[tuple[int, int]]:
    """Run the platform to the head, killing it (SIGKILL) ``kills`` times: each time once its checkpoint
    passes a target drawn at random ahead of where it restarted, then after a random 0-20 ms (so mid-batch
    as often as not); returns (target, checkpoint at the kill) per kill."""
    engine = make_engine(url)
    killed: list[tuple[int, int]] = []
    try:
        for left in range(kills, 0, -1):
            done = max(await _checkpoint("", engine), chain.first - 1)
            stride = max((chain.head - 40 - done) // left, 1)
            target = min(done + rng.randint(1, 2 * stride), chain.head - 40)
            proc = _start(data, chain.config, chain.manifest, chain.first, database_url=url)
            try:
                await _until(engine, proc, target, seconds=60)
                await asyncio.sleep(rng.uniform(0, 0.02))
            finally:
                _kill(proc)
            killed.append((target, await _checkpoint("", engine)))
        proc = _start(data, chain.config, chain.manifest, chain.first, database_url=url)
        try:
            await _until(engine, proc, chain.head, seconds=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        return killed
    finally:
        await engine.dispose()


# -- the outcome ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON values without wall-clock keys (history entries, event details)."""
    if isinstance(value, str) and value[:1] in "[{":
        with contextlib.suppress(ValueError):
            return _plain(json.loads(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if k not in WALL_CLOCK_KEYS | SURROGATE_KEYS}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def outcome(url: str, *, ignore_monitors: set[str]) -> dict[str, list[str]]:
    """Every compared table as sorted rows: no surrogate ids (an alert id becomes its fingerprint), no
    wall-clock columns, no rows of the ignored (polled) monitors."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            meta = MetaData()
            await conn.run_sync(lambda c: meta.reflect(c, only=lambda name, _: name in COMPARED))
            alerts = meta.tables["alerts"]
            rows = (await conn.execute(select(alerts.c.id, alerts.c.fingerprint, alerts.c.monitor))).all()
            fingerprint = {i: fp for i, fp, monitor in rows if monitor not in ignore_monitors}
            result: dict[str, list[str]] = {}
            for name, table in sorted(meta.tables.items()):
                kept = [
                    c
                    for c in table.columns
                    if not isinstance(c.type, DateTime) and c.name not in WALL_CLOCK_KEYS and c.name != "id"
                ]
                out = []
                for row in (await conn.execute(select(*kept))).mappings():
                    item = {k: _plain(v) for k, v in row.items()}
                    if "alert_id" in item:
                        if item["alert_id"] not in fingerprint:
                            continue
                        item["alert_id"] = fingerprint[item["alert_id"]]
                    if name == "alerts" and item["monitor"] in ignore_monitors:
                        continue
                    out.append(json.dumps(item, sort_keys=True, default=str))
                result[name] = sorted(out)
            return result
    finally:
        await engine.dispose()


def _diff(reference: dict[str, list[str]], drill: dict[str, list[str]]) -> str:
    lines = []
    for table in sorted(set(reference) | set(drill)):
        ref, got = set(reference.get(table, [])), set(drill.get(table, []))
        lines += [f"{table} only in the reference run: {r}" for r in sorted(ref - got)[:5]]
        lines += [f"{table} only in the drill: {r}" for r in sorted(got - ref)[:5]]
    return "\n".join(lines)


# -- the chain --------------------------------------------------------------------------------------------


@dataclass
class DrillChain:
    config: Path
    manifest: Path
    first: int
    head: int
    ignore: set[str]
    reference: dict[str, list[str]]


async def _build(chain: DevChain, ctx: ScenarioContext) -> None:
    """Bursts and scenarios between stretches of ordinary traffic and empty blocks."""
    traders = chain.role("traders")

    async def traffic(blocks: int, amount: int) -> None:
        for i in range(blocks):
            sender, receiver = traders[i % 2], traders[1 - i % 2]  # ping-pong: both stay solvent
            await chain.send(sender, "PaymentToken", "transfer", receiver, (amount + 37 * i) * PT)
            if i % 3 == 0:
                await chain.rpc.call("evm_mine", [])

    await traffic(40, 200)  # the baselines warm up
    await run_scenario(ctx, "failed-tx-burst")  # an error-rate burst in the rolling window
    await traffic(6, 51_000)  # large transfers: repeat occurrences of one alert per sender
    await run_scenario(ctx, "oracle-deviation")
    await run_scenario(ctx, "large-transfer")
    await run_scenario(ctx, "pause")
    await chain.rpc.call("evm_mine", [])
    await run_scenario(ctx, "pause", undo=True)
    await run_scenario(ctx, "gas-spike")
    await run_scenario(ctx, "gas-spike", undo=True)
    await run_scenario(ctx, "oracle-jump")
    await traffic(20, 300)
    await run_scenario(ctx, "failed-tx-burst")
    await traffic(10, 250)


def _polled(config: Path) -> set[str]:
    nodes = yaml.safe_load((config / "monitors" / "nodes.yaml").read_text())
    return {m["name"] for m in nodes["monitors"]} | {"access-attempts"}


@pytest.fixture(scope="module")
async def drill_chain(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DrillChain]:
    tmp = tmp_path_factory.mktemp("crash")
    with AnvilNode() as node:
        manifest = await deploy_system(node.rpc_url)
        manifest_path = tmp / "manifest.json"
        manifest.save(manifest_path)
        config = devnet_config(tmp / "config", [node.rpc_url])
        async with DevChain(node.rpc_url, manifest) as chain:
            first = await chain.head() + 1
            ctx = ScenarioContext(
                chain=chain, store=ScenarioStore(tmp / "scenarios.json"), options=ScenarioOptions(count=25)
            )
            await _build(chain, ctx)
            head = await chain.head()
        ignore = _polled(config)
        url = f"sqlite:///{(tmp / 'reference' / 'fictra.db').resolve()}"
        drill = DrillChain(config, manifest_path, first, head, ignore, {})
        await _run(drill, tmp / "reference", url, kills=0, rng=random.Random(0))
        drill.reference = await outcome(url, ignore_monitors=ignore)
        yield drill


async def test_kill_9_at_random_points_changes_nothing(
    drill_chain: DrillChain, database_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FICTRA_CRASH_SEED", random.SystemRandom().randrange(1 << 32)))
    print(f"crash drill seed {seed} (FICTRA_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    chain = drill_chain
    reference = chain.reference
    assert len(reference["alerts"]) >= 5, "the drill chain raises too little to compare"
    assert len(reference["series_samples"]) >= 5 * (chain.head - chain.first)

    killed = await _run(chain, tmp_path / "data", database_url, kills=KILLS, rng=rng)
    print(f"blocks {chain.first}..{chain.head}; (kill target, checkpoint at the kill): {killed}")

    assert len(killed) == KILLS and all(at < chain.head for _, at in killed), f"caught up: {killed}"
    assert len({at for _, at in killed}) == KILLS, f"a restart was killed before it processed: {killed}"
    drill = await outcome(database_url, ignore_monitors=chain.ignore)
    assert drill == reference, f"seed {seed}, kills {killed}:\n{_diff(reference, drill)}"
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            assert await session.scalar(select(ChainCheckpoint.block_number)) == chain.head
    finally:
        await engine.dispose()
