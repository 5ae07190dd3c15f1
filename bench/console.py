"""The operations console under load: p50/p99 latency of the alert list API and of the overview page with
100,000 alerts stored, 50 concurrent clients on loopback, a bounded number of requests per endpoint.

The app (``create_app``, exactly as ``fictra up`` serves it) runs in its own process under uvicorn on
127.0.0.1, on a SQLite database (the default store) filled by bulk INSERTs; the clients are httpx in this
process, authenticated with an admin API token. The overview page (GET /) comes from the web console's
router; when that router is not installed the result says so instead of a figure.

python -m bench console --console-alerts 100000 --console-clients 50 --console-requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"alerts": 100_000, "clients": 50, "requests": 2_000}
SEVERITIES = ("P0", "P1", "P2", "P2", "P3", "P3", "P3")
MONITORS = ("oracle-health", "gas", "transactions", "contract-status", "node-health", "pt-large-transfer")
ENDPOINTS = {
    "alert_list_api": "/api/v1/alerts",
    "alert_list_api_filtered": "/api/v1/alerts?severity=P0&status=firing",
    "overview_page": "/",
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _alert_rows(count: int, *, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for i in range(count):
        seen = now - timedelta(seconds=rng.randint(0, 30 * 86400))
        severity = SEVERITIES[i % len(SEVERITIES)]
        firing = rng.random() < 0.05
        monitor = MONITORS[i % len(MONITORS)]
        rows.append(
            {
                "network": "devnet",
                "fingerprint": f"{i:032x}",
                "monitor": monitor,
                "severity": severity,
                "status": "firing" if firing else "resolved",
                "confirmation": "confirmed",
                "required_confirmations": 2,
                "summary": f"{monitor}: condition {i} on Feed:GOLD",
                "labels": {"feed": "GOLD", "case": str(i)},
                "evidence": {"observed": i, "expected": "< 5%", "tx": f"0x{i:064x}"},
                "history": [],
                "block_number": 1000 + i,
                "block_hash": f"0x{i:064x}",
                "confirm_at": 1002 + i,
                "tx_hashes": [f"0x{i:064x}"],
                "count": 1 + i % 5,
                "first_seen": seen,
                "last_seen": seen,
                "fired_at": seen,
                "resolved_at": None if firing else seen + timedelta(minutes=5),
                "ack_deadline": seen + timedelta(hours=1),
                "acknowledged_at": None,
                "acknowledged_by": None,
                "retraction_reason": None,
            }
        )
    return rows


async def _prepare(db_url: str, *, alerts: int, config_dir: Path) -> tuple[str, float]:
    """Migrate, bulk-insert the alerts, create an admin with a token; returns (token, insert seconds)."""
    from sqlalchemy import insert

    from fictra.alerting.models import Alert
    from fictra.auth.actor import SYSTEM
    from fictra.auth.permissions import PERMISSIONS, load_roles
    from fictra.auth.policy import DEFAULT_POLICY
    from fictra.auth.service import create_user
    from fictra.auth.tokens import create_token
    from fictra.clock import SystemClock
    from fictra.db.engine import make_engine, migrate, session_factory

    migrate(db_url)
    engine = make_engine(db_url)
    clock = SystemClock()
    try:
        sessions = session_factory(engine)
        rows = _alert_rows(alerts, now=datetime.now(UTC))
        started = time.perf_counter()
        for start in range(0, len(rows), 5000):
            async with sessions.begin() as db:
                await db.execute(insert(Alert), rows[start : start + 5000])
        insert_s = time.perf_counter() - started
        roles = load_roles(config_dir / "roles.yaml")
        async with sessions.begin() as db:
            user = await create_user(
                db,
                username="bench-admin",
                roles=["admin"],
                password="Bench-Console-Password-42",
                role_map=roles,
                actor=SYSTEM,
                clock=clock,
            )
            new = await create_token(
                db,
                user=user,
                scopes=sorted(PERMISSIONS),
                expires_in=timedelta(hours=2),
                role_map=roles,
                actor=SYSTEM,
                clock=clock,
                policy=DEFAULT_POLICY,
            )
        return new.token, insert_s
    finally:
        await engine.dispose()


async def _serve(db_url: str, port: int, config_dir: str) -> None:
    """The server process: the app as ``fictra up`` builds it, on the prepared database."""
    from fictra.api.app import create_app, serve
    from fictra.api.context import AppContext
    from fictra.clock import SystemClock
    from fictra.db.engine import make_engine, session_factory
    from fictra.metrics import new_registry
    from fictra.platform.config_set import load_config_set
    from fictra.settings import load_settings

    settings = load_settings(config_dir=Path(config_dir), data_dir=Path(db_url.split("///", 1)[1]).parent)
    engine = make_engine(db_url)
    status = {"network": "devnet", "head": 0, "last_block": 0, "lag": 0, "counters": {}, "endpoints": []}
    context = AppContext(
        settings=settings,
        sessions=session_factory(engine),
        metrics=new_registry(),
        clock=SystemClock(),
        status=lambda: status,
        config=load_config_set(Path(config_dir)),
    )
    stop = asyncio.Event()
    try:
        await serve(create_app(context=context), host="127.0.0.1", port=port, stop=stop)
    finally:
        await engine.dispose()


async def _serve_bare(port: int) -> None:
    """The reference: a bare FastAPI endpoint served the same way (same ``serve``, same uvicorn)."""
    from fastapi import FastAPI

    from fictra.api.app import serve

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    await serve(app, host="127.0.0.1", port=port, stop=asyncio.Event())


async def _keepalive(base: str, path: str, *, count: int = 200) -> dict[str, Any]:
    """Sequential small requests on ONE kept-alive connection: p50/p99 (the delayed-ACK figure)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await client.get(path)
        for _ in range(count):
            started = time.perf_counter()
            response = await client.get(path)
            await response.aread()
            latencies.append((time.perf_counter() - started) * 1000)
    return {
        "requests": count,
        "p50_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(_pct(latencies, 0.99), 3),
    }


def _wrk(base: str, path: str, *, token: str, clients: int, seconds: int) -> dict[str, Any] | str:
    """wrk (Debian) as the load generator: p50/p99 and requests/s; a string saying why when absent."""
    from bench._common import apt_binary

    wrk, reason = apt_binary("wrk", "wrk")
    if wrk is None:
        return f"skipped: {reason}"
    import re
    import subprocess

    done = subprocess.run(
        [wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "30s",
         "-H", f"Authorization: Bearer {token}", base + path],
        capture_output=True, text=True, timeout=seconds + 60, check=False,
    )  # fmt: skip
    out = done.stdout

    def ms(label: str) -> float | None:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 3)

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "tool": "wrk",
        "seconds": seconds,
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "requests_per_s": float(rate.group(1)) if rate else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


async def _load(base: str, path: str, *, token: str, clients: int, requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    remaining = requests
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(path)
                await response.aread()
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(_pct(latencies, 0.99), 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


async def _start(args: list[str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bench.console", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )


async def _wait_http(base: str, server: asyncio.subprocess.Process, path: str) -> None:
    async with httpx.AsyncClient(base_url=base) as probe:
        for _ in range(1200):
            try:
                await probe.get(path)
                return
            except httpx.TransportError:
                if server.returncode is not None:
                    raise SystemExit("error: a console bench server exited at start-up") from None
                await asyncio.sleep(0.05)
    raise SystemExit(f"error: {base} did not answer")


async def _stop(server: asyncio.subprocess.Process) -> None:
    server.terminate()
    try:
        await asyncio.wait_for(server.wait(), timeout=20)
    except TimeoutError:
        server.kill()
        await server.wait()


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    from bench._common import free_port, machine

    opts = {k: int(getattr(args, "console_" + k, None) or v) for k, v in DEFAULTS.items()}
    wrk_seconds = int(getattr(args, "console_wrk_seconds", None) or 10)
    rounds = int(getattr(args, "console_rounds", None) or 3)
    config_dir = REPO / "config"
    before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'console.db'}"
        token, insert_s = await _prepare(db_url, alerts=opts["alerts"], config_dir=config_dir)
        print(f"  stored {opts['alerts']} alerts in {insert_s:.1f}s (bulk INSERT)")
        port, bare_port = free_port(), free_port()
        server = await _start(["serve", db_url, str(port), str(config_dir)])
        bare = await _start(["bare", str(bare_port)])
        base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        results: dict[str, Any] = {}
        wrk_results: dict[str, Any] = {}
        try:
            await _wait_http(base, server, "/healthz")
            await _wait_http(bare_base, bare, "/ping")
            async with httpx.AsyncClient(base_url=base) as probe:
                overview_present = (
                    await probe.get("/", headers={"Authorization": f"Bearer {token}"})
                ).status_code != 404
            # the reference first: the same client against a bare endpoint shows the client's ceiling
            results["bare_fastapi"] = await _load(
                bare_base, "/ping", token=token, clients=opts["clients"], requests=opts["requests"]
            )
            wrk_results["bare_fastapi"] = _wrk(
                bare_base, "/ping", token=token, clients=opts["clients"], seconds=wrk_seconds
            )
            for name, path in ENDPOINTS.items():
                if name == "overview_page" and not overview_present:
                    results[name] = "missing: the web console's router (fictra.web.views) is not installed"
                    continue
                results[name] = await _load(
                    base, path, token=token, clients=opts["clients"], requests=opts["requests"]
                )
                wrk_results[name] = _wrk(
                    base, path, token=token, clients=opts["clients"], seconds=wrk_seconds
                )
                r = results[name]
                print(f"  {name} {path}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['requests_per_s']}/s")
            keepalive: dict[str, list[dict[str, Any]]] = {"fictra_healthz": [], "bare_ping": []}
            for _ in range(rounds):  # alternating sides, best of N
                keepalive["fictra_healthz"].append(await _keepalive(base, "/healthz"))
                keepalive["bare_ping"].append(await _keepalive(bare_base, "/ping"))
        finally:
            await _stop(server)
            await _stop(bare)
    best_keepalive = {k: min(v, key=lambda r: r["p50_ms"]) for k, v in keepalive.items()}
    flat: dict[str, Any] = {
        "name": "console",
        "alerts_stored": opts["alerts"],
        "clients": opts["clients"],
        "requests_per_endpoint": opts["requests"],
        "rounds_keepalive": rounds,
        "alert_insert_s": round(insert_s, 2),
        "machine_before": before,
        "machine_after": machine(),
        "endpoints": results,
        "wrk": wrk_results,
        "keepalive": best_keepalive,
        "keepalive_p50_ms": best_keepalive["fictra_healthz"]["p50_ms"],
        "keepalive_bare_p50_ms": best_keepalive["bare_ping"]["p50_ms"],
        "p99_target_ms": 150,
    }
    for name, r in results.items():
        if isinstance(r, dict):
            flat[f"{name}_p50_ms"] = r["p50_ms"]
            flat[f"{name}_p99_ms"] = r["p99_ms"]
        else:
            flat[f"{name}_p50_ms"] = r
    for name, w in wrk_results.items():
        if isinstance(w, dict):
            flat[f"{name}_wrk_p50_ms"] = w["p50_ms"]
            flat[f"{name}_wrk_p99_ms"] = w["p99_ms"]
            flat[f"{name}_wrk_rps"] = w["requests_per_s"]
    return flat


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "bare":
    asyncio.run(_serve_bare(int(sys.argv[2])))
elif __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "serve":
    asyncio.run(_serve(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
