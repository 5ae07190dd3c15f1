"""Alert intake vs a real Alertmanager: the same stream, the same clients, alternating sides.

The stream: ``alerts`` alerts (default 50,000) over ``label_sets`` distinct label sets (10,000), in
batches of ``batch``, posted by ``clients`` (8) concurrent HTTP clients. FICTRA: the real app
(``create_app``, real bearer-token auth) under uvicorn in a child process on SQLite, Alertmanager-webhook
(v4) bodies, deduplicated into one alert per fingerprint (checked). Reference: Debian's
``prometheus-alertmanager`` (installed when missing, or skipped with the reason) receiving the same
batches on /api/v2/alerts. Each side runs ``rounds`` times, the best counts; ``ratio`` = FICTRA's rate /
Alertmanager's (target >= 0.5); CPU ms per alert from /proc; machine load recorded.

``python -m bench inbound [--inbound-alerts 50000] [--inbound-batch 50] [--inbound-clients 8]
[--inbound-label-sets 10000] [--inbound-rounds 2]`` writes bench/results/inbound.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench._common import free_port
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
DEFAULTS = {"alerts": 50_000, "batch": 50, "clients": 8, "label_sets": 10_000, "rounds": 2}
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
    """The child process: serve the app until killed (without the hostile-input boundary when
    BENCH_INBOUND_NO_LIMITS=1: the reference for what the limits cost)."""
    app = create_app(context=_context(url, config_dir, data_dir))
    if os.environ.get("BENCH_INBOUND_NO_LIMITS") == "1":
        from fictra.api.limits import HostileInputMiddleware

        app.user_middleware = [m for m in app.user_middleware if m.cls is not HostileInputMiddleware]
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


def _stream(total: int, label_sets: int, rng: random.Random) -> list[dict[str, Any]]:
    """The alert stream both sides get: ``total`` alerts over ``label_sets`` distinct label sets."""
    alerts = []
    for i in range(total):
        n = i if i < label_sets else rng.randrange(label_sets)
        alerts.append(
            {
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
    return alerts


def _payloads(alerts: list[dict[str, Any]], batch: int) -> tuple[list[bytes], list[bytes]]:
    """The same batches as FICTRA's Alertmanager-webhook (v4) bodies and as Alertmanager's /api/v2 bodies."""
    fictra, am = [], []
    for start in range(0, len(alerts), batch):
        chunk = alerts[start : start + batch]
        payload = {
            "version": "4",
            "status": "firing",
            "receiver": "fictra",
            "groupKey": "bench",
            "alerts": [{"status": "firing", **a} for a in chunk],
        }
        fictra.append(json.dumps(payload).encode())
        am.append(json.dumps([{k: v for k, v in a.items() if k != "fingerprint"} for a in chunk]).encode())
    return fictra, am


async def _post_all(
    url: str, bodies: list[bytes], *, headers: dict[str, str], clients: int
) -> tuple[float, list[float], list[str]]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    failures: list[str] = []

    async def client() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                r = await http.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if r.status_code != 200:
                    failures.append(f"HTTP {r.status_code}: {r.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, failures


AM_CONFIG = """route:
  receiver: "null"
  group_wait: 1h
receivers:
  - name: "null"
"""


async def _alertmanager_round(bodies: list[bytes], *, clients: int, root: Path) -> dict[str, Any] | str:
    """The reference: the same batches posted to a real Alertmanager (Debian's package)."""
    from bench._common import apt_binary, free_port, wait_port

    binary, reason = apt_binary("prometheus-alertmanager", "prometheus-alertmanager")
    if binary is None:
        return f"skipped: {reason}"
    work = root / f"am-{time.monotonic_ns()}"
    work.mkdir()
    (work / "am.yml").write_text(AM_CONFIG)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        binary, f"--config.file={work / 'am.yml'}", f"--storage.path={work}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await asyncio.to_thread(wait_port, port)
        url = f"http://127.0.0.1:{port}/api/v2/alerts"
        cpu_before = _proc_cpu(proc.pid)
        seconds, latencies, failures = await _post_all(
            url, bodies, headers={"Content-Type": "application/json"}, clients=clients
        )
        cpu = _proc_cpu(proc.pid) - cpu_before
        async with httpx.AsyncClient() as http:
            held = len((await http.get(url)).json())
    finally:
        proc.kill()
        await proc.wait()
    if failures:
        return f"failed: {len(failures)} requests, first: {failures[0]}"
    return {"seconds": seconds, "latencies": latencies, "cpu_s": cpu, "alerts_held": held}


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def _fictra_round(
    bodies: list[bytes], *, clients: int, root: Path, config_dir: Path, limits: bool = True
) -> dict[str, Any]:
    work = root / f"fictra-{time.monotonic_ns()}"
    work.mkdir()
    url = f"sqlite:///{work / 'inbound.db'}"
    migrate(url)
    token = await _token(url, config_dir, work / "data")
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.inbound", url, str(config_dir), str(work / "data"), str(port),
        cwd=REPO,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "BENCH_INBOUND_NO_LIMITS": "0" if limits else "1",
        },
    )  # fmt: skip
    try:
        await _wait_listening(port, proc)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        cpu_before = _proc_cpu(proc.pid)
        seconds, latencies, failures = await _post_all(
            f"http://127.0.0.1:{port}/api/v1/inbound/alertmanager", bodies, headers=headers, clients=clients
        )
        cpu = _proc_cpu(proc.pid) - cpu_before
    finally:
        proc.kill()
        await proc.wait()
    if failures:
        raise SystemExit(f"inbound bench: {len(failures)} requests failed, first: {failures[0]}")
    engine = make_engine(url)
    async with session_factory(engine)() as s:
        stored = int(await s.scalar(select(func.count()).select_from(Alert)) or 0)
        counted = int(await s.scalar(select(func.sum(Alert.count))) or 0)
    await engine.dispose()
    return {"seconds": seconds, "latencies": latencies, "cpu_s": cpu, "stored": stored, "counted": counted}


def _summary(total: int, r: dict[str, Any]) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in r["latencies"])
    return {
        "seconds": round(r["seconds"], 3),
        "alerts_per_s": round(total / r["seconds"], 1),
        "cpu_ms_per_alert": round(r["cpu_s"] * 1000 / total, 4),
        "request_ms_p50": round(statistics.median(ms), 2),
        "request_ms_p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench._common import machine

    opts = {k: getattr(args, f"inbound_{k}", None) or v for k, v in DEFAULTS.items()}
    total, batch, clients = int(opts["alerts"]), int(opts["batch"]), int(opts["clients"])
    label_sets, rounds = int(opts["label_sets"]), int(opts["rounds"])
    alerts = _stream(total, label_sets, random.Random(5))
    distinct = len({a["fingerprint"] for a in alerts})
    fictra_bodies, am_bodies = _payloads(alerts, batch)
    before = machine()
    fictra_runs: list[dict[str, Any]] = []
    bare_runs: list[dict[str, Any]] = []  # the same app without the hostile-input boundary
    am_runs: list[dict[str, Any]] = []
    am_skip = ""
    with tempfile.TemporaryDirectory(prefix="fictra-bench-inbound-") as tmp:
        root = Path(tmp)
        config_dir = _config_copy(root / "config")
        for round_no in range(rounds):
            sides = ["am", "fictra", "bare"] if round_no % 2 == 0 else ["bare", "fictra", "am"]
            for side in sides:
                if side == "bare":
                    bare_runs.append(
                        await _fictra_round(
                            fictra_bodies, clients=clients, root=root, config_dir=config_dir, limits=False
                        )
                    )
                elif side == "fictra":
                    fictra_runs.append(
                        await _fictra_round(fictra_bodies, clients=clients, root=root, config_dir=config_dir)
                    )
                elif not am_skip:
                    got = await _alertmanager_round(am_bodies, clients=clients, root=root)
                    if isinstance(got, str):
                        am_skip = got
                    else:
                        am_runs.append(got)
    best = min(fictra_runs, key=lambda r: r["seconds"])
    out: dict[str, Any] = {
        "name": "inbound",
        "alerts": total,
        "batch": batch,
        "clients": clients,
        "label_sets": label_sets,
        "distinct_fingerprints": distinct,
        "rounds": rounds,
        "machine_before": before,
        "machine_after": machine(),
        "alerts_stored": best["stored"],
        "occurrences_counted": best["counted"],
        # one occurrence per label set: the stream repeats each with the same startsAt (as Alertmanager does)
        "dedup_ok": all(r["stored"] == distinct and r["counted"] == distinct for r in fictra_runs),
        "fictra": _summary(total, best),
        "fictra_runs_s": [round(r["seconds"], 3) for r in fictra_runs],
        "alerts_per_s": round(total / best["seconds"], 1),
        "target_ratio": 0.5,
    }
    bare = min(bare_runs, key=lambda r: r["seconds"])
    out["without_limits"] = _summary(total, bare)
    out["without_limits_runs_s"] = [round(r["seconds"], 3) for r in bare_runs]
    # issue 11: the hostile-input boundary (size + depth scan before parsing) must cost < 5 %
    out["limits_cost_pct"] = round((best["seconds"] / bare["seconds"] - 1) * 100, 2)
    out["limits_cost_target_pct"] = 5.0
    if am_runs:
        am_best = min(am_runs, key=lambda r: r["seconds"])
        out["alertmanager"] = _summary(total, am_best) | {"alerts_held": am_best["alerts_held"]}
        out["alertmanager_runs_s"] = [round(r["seconds"], 3) for r in am_runs]
        out["alertmanager_alerts_per_s"] = out["alertmanager"]["alerts_per_s"]
        out["ratio"] = round(am_best["seconds"] / best["seconds"], 3)
        out["target_met"] = out["ratio"] >= 0.5
    else:
        out["alertmanager"] = am_skip
    return out


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
