"""Inbound alerts/s through the HTTP API with deduplication, on SQLite.

The real app (``create_app``, real bearer-token auth) is served by uvicorn on loopback in a child
process; ``clients`` concurrent HTTP clients post Alertmanager v4 payloads of ``batch`` alerts each,
``alerts`` in all, a ``repeat`` share of them repeating a fingerprint already sent (deduplicated into
the existing alert) and the rest new. Reports alerts/s accepted (target >= 2,000/s), requests/s,
request latency p50/p99, and checks the store holds exactly one alert per distinct fingerprint.

``python -m bench inbound [--inbound-alerts 20000] [--inbound-batch 50] [--inbound-clients 8]
[--inbound-repeat 0.5]`` writes bench/results/inbound.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from fictra.alerting.models import Alert
from fictra.api.app import create_app, serve
from fictra.api.context import AppContext
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import create_user
from fictra.auth.tokens import create_token
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.metrics import new_registry
from fictra.platform.config_set import load_config_set
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"alerts": 20_000, "batch": 50, "clients": 8, "repeat": 0.5}
TARGET = 2_000.0


def _config_copy(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in ("network.yaml", "alerting.yaml", "roles.yaml"):
        shutil.copy(REPO / "config" / name, target / name)
    for sub in ("monitors", "rules"):
        shutil.copytree(REPO / "config" / sub, target / sub)
    return target


def _context(url: str, config_dir: Path, data_dir: Path) -> AppContext:
    engine = make_engine(url)
    return AppContext(
        settings=load_settings(config_dir=config_dir, data_dir=data_dir),
        sessions=session_factory(engine),
        metrics=new_registry(),
        clock=SystemClock(),
        status=lambda: {},
        config=load_config_set(config_dir),
        roles=load_roles(config_dir / "roles.yaml"),
    )


async def _serve(url: str, config_dir: Path, data_dir: Path, port: int) -> None:
    """The child process: serve the app until killed."""
    app = create_app(context=_context(url, config_dir, data_dir))
    print("ready", flush=True)
    await serve(app, host="127.0.0.1", port=port, stop=asyncio.Event())


async def _token(url: str, config_dir: Path, data_dir: Path) -> str:
    context = _context(url, config_dir, data_dir)
    roles = context.roles
    assert roles is not None
    async with context.sessions.begin() as db:
        user = await create_user(
            db, username="bench-inbound", roles=["admin"], password="Bench-Inbound-Password-1",
            role_map=roles, actor=SYSTEM, clock=context.clock,
        )  # fmt: skip
        new = await create_token(
            db, user=user, scopes=["inbound.write"], expires_in=timedelta(hours=1), role_map=roles,
            actor=SYSTEM, clock=context.clock, policy=DEFAULT_POLICY,
        )  # fmt: skip
    return new.token


def _payloads(total: int, batch: int, repeat: float, rng: random.Random) -> tuple[list[bytes], int]:
    """Serialized payloads and the number of distinct fingerprints they carry."""
    seen = 0
    bodies = []
    for start in range(0, total, batch):
        alerts = []
        for _ in range(min(batch, total - start)):
            if seen and rng.random() < repeat:
                n = rng.randrange(seen)
            else:
                n = seen
                seen += 1
            alerts.append(
                {
                    "status": "firing",
                    "labels": {
                        "alertname": f"Bench{n % 50}",
                        "instance": f"node-{n}:9100",
                        "severity": "warning",
                    },
                    "annotations": {"summary": f"bench alert {n}"},
                    "startsAt": "2026-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": f"{n:016x}",
                }
            )
        payload = {
            "version": "4",
            "status": "firing",
            "receiver": "fictra",
            "groupKey": "bench",
            "alerts": alerts,
        }
        bodies.append(json.dumps(payload).encode())
    return bodies, seen


async def _wait_listening(port: int, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise SystemExit(f"inbound bench server exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("inbound bench server did not start listening within 60 s")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    opts = {k: getattr(args, f"inbound_{k}", None) or v for k, v in DEFAULTS.items()}
    total, batch, clients, repeat = (
        int(opts["alerts"]),
        int(opts["batch"]),
        int(opts["clients"]),
        float(opts["repeat"]),
    )
    with tempfile.TemporaryDirectory(prefix="fictra-bench-inbound-") as tmp:
        root = Path(tmp)
        config_dir = _config_copy(root / "config")
        url = f"sqlite:///{root / 'inbound.db'}"
        migrate(url)
        token = await _token(url, config_dir, root / "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.inbound", url, str(config_dir), str(root / "data"), str(port),
            cwd=REPO, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )  # fmt: skip
        try:
            await _wait_listening(port, proc)
            bodies, distinct = _payloads(total, batch, repeat, random.Random(5))
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            for body in bodies:
                queue.put_nowait(body)
            latencies: list[float] = []
            failures: list[str] = []
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

            async def client() -> None:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                    while not queue.empty():
                        body = queue.get_nowait()
                        started = time.perf_counter()
                        r = await http.post("/api/v1/inbound/alertmanager", content=body, headers=headers)
                        latencies.append(time.perf_counter() - started)
                        if r.status_code != 200:
                            failures.append(f"HTTP {r.status_code}: {r.text[:200]}")

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            elapsed = time.perf_counter() - started
        finally:
            proc.kill()
            await proc.wait()
        engine = make_engine(url)
        async with session_factory(engine)() as s:
            stored = int(await s.scalar(select(func.count()).select_from(Alert)) or 0)
            counted = int(await s.scalar(select(func.sum(Alert.count))) or 0)
        await engine.dispose()
    if failures:
        raise SystemExit(f"inbound bench: {len(failures)} requests failed, first: {failures[0]}")
    ms = sorted(x * 1000 for x in latencies)
    rate = total / elapsed
    return {
        "alerts": total,
        "batch": batch,
        "clients": clients,
        "repeat_share": repeat,
        "distinct_fingerprints": distinct,
        "alerts_stored": stored,
        "occurrences_counted": counted,
        "dedup_ok": stored == distinct and counted == total,
        "seconds": round(elapsed, 3),
        "alerts_per_s": round(rate, 1),
        "requests_per_s": round(len(bodies) / elapsed, 1),
        "request_ms_p50": round(statistics.median(ms), 2),
        "request_ms_p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "target_alerts_per_s": TARGET,
        "target_met": rate >= TARGET,
        "load_average_1m": round(os.getloadavg()[0], 2),  # the machine is shared: read the rate with this
        "cpus": os.cpu_count() or 0,
    }


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
