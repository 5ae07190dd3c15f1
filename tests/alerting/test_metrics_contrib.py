"""Metrics as operators consume them: docs/metrics.md generated from the registry (a test compares),
contrib/prometheus/fictra-rules.yml checked by promtool, and every query of contrib/grafana/fictra.json
evaluated by a real Prometheus (Debian's ``prometheus``) scraping the platform's /metrics with a token.

The Prometheus binaries are skipped with the reason when missing, except under CI=true where they must run
(``make browser-deps`` installs them)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.rig import api_rig
from fictra.api.app import serve
from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.db.engine import migrate
from fictra.devnet.anvil import AnvilNode, free_port
from fictra.emergency.metrics import RunnerMetrics
from fictra.jobs.metrics import JobMetrics
from fictra.notify.metrics import OutboxMetrics
from fictra.platform.metrics_doc import LABEL_VALUES, families, platform_registry, render
from fictra.response.sla import SlaMetrics

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "contrib" / "prometheus" / "fictra-rules.yml"
DASHBOARD = REPO / "contrib" / "grafana" / "fictra.json"


def _binary(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true this test must run")
        pytest.skip(reason)
    return found


def test_docs_metrics_is_generated_from_the_registry() -> None:
    assert (REPO / "docs" / "metrics.md").read_text() == render(), (
        "docs/metrics.md is stale: .venv/bin/python -m fictra.platform.metrics_doc > docs/metrics.md"
    )
    documented = {f["name"] for f in families(platform_registry())}
    declared: set[str] = set()
    for path in (REPO / "src" / "fictra").rglob("*.py"):
        text = path.read_text()
        if "prometheus_client" in text:
            declared |= set(re.findall(r'"(fictra_[a-z0-9_]+)"', text))
    assert declared <= documented, f"metrics not in docs/metrics.md: {sorted(declared - documented)}"
    labels = {label for f in families(platform_registry()) for label in f["labels"]}
    assert labels <= set(LABEL_VALUES), f"label values undocumented: {sorted(labels - set(LABEL_VALUES))}"


def test_prometheus_rules_pass_promtool() -> None:
    promtool = _binary("promtool", "prometheus")
    done = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    out = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$network", ".+").replace("$__rate_interval", "30s")
            out.append((panel["title"], expr))
    return out


PROMETHEUS_CONFIG = """
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
scrape_configs:
  - job_name: fictra
    metrics_path: /metrics
    authorization: {{type: Bearer, credentials_file: {token}}}
    static_configs: [{{targets: ['127.0.0.1:{port}']}}]
"""


async def test_dashboard_queries_return_data_from_a_real_prometheus(
    tmp_path: Path, shared_anvil: AnvilNode
) -> None:
    binary = _binary("prometheus", "prometheus")
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate(url)
    async with api_rig(url, roles=["viewer"], alerts=0) as rig:
        metrics = rig.context.metrics
        registry = metrics.registry
        jobs, outbox, sla = JobMetrics(registry), OutboxMetrics(registry), SlaMetrics.register(registry)
        runner = RunnerMetrics(registry)
        # the endpoint label comes from the pool's names (network.yaml), measured on a real node
        pool = RpcPool(
            network="devnet",
            urls=[shared_anvil.rpc_url],
            names=["local"],
            clock=SystemClock(),
            metrics=metrics,
        )
        await pool.start()

        async def activity() -> None:
            await pool.call("eth_blockNumber")
            metrics.follower_head.labels("devnet").set(120)
            metrics.follower_processed_block.labels("devnet").set(118)
            metrics.follower_lag_blocks.labels("devnet").set(2)
            metrics.blocks_processed.labels("devnet").inc(3)
            metrics.transactions_processed.labels("devnet").inc(40)
            metrics.rpc_errors.labels("devnet", "local").inc(0)
            metrics.reorgs.labels("devnet").inc(0)
            metrics.reorg_depth.labels("devnet").observe(1)
            metrics.block_to_alert_seconds.labels("devnet").observe(0.02)
            for confirmation, n in (("confirmed", 1), ("provisional", 2)):
                metrics.alerts.labels("P0", "firing", confirmation).set(n)
            jobs.runs.labels("audit.checkpoint", "ok").inc()
            jobs.duration_seconds.labels("audit.checkpoint").observe(0.01)
            jobs.last_success.labels("audit.checkpoint").set(time.time())
            outbox.attempts.labels("ops-email", "email", "delivered").inc()
            outbox.send_seconds.labels("email").observe(0.05)
            sla.breaches.labels("P1", "ops", "acknowledge").inc(0)
            runner.alert_to_confirmed.labels("pause_all").observe(12)

        port, prom_port = free_port(), free_port()
        token = tmp_path / "token"
        token.write_text(rig.tokens["viewer"])
        config = tmp_path / "prometheus.yml"
        config.write_text(PROMETHEUS_CONFIG.format(rules=RULES, token=token, port=port))
        stop = asyncio.Event()
        server = asyncio.create_task(serve(rig.app, host="127.0.0.1", port=port, stop=stop))
        proc = await asyncio.create_subprocess_exec(
            binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        api = f"http://127.0.0.1:{prom_port}/api/v1"
        try:
            async with httpx.AsyncClient(timeout=5) as http:

                async def query(expr: str) -> list[Any]:
                    r = await http.get(f"{api}/query", params={"query": expr})
                    body = r.json()
                    assert body["status"] == "success", (expr, body)
                    return list(body["data"]["result"])

                deadline = time.monotonic() + 60
                while True:  # until Prometheus has scraped the app a few times (activity between scrapes)
                    await activity()
                    try:
                        samples = await query('count_over_time(up{job="fictra"}[1m])')
                        if samples and float(samples[0]["value"][1]) >= 4:
                            break
                    except (httpx.HTTPError, ValueError):
                        pass
                    assert time.monotonic() < deadline, "Prometheus did not scrape the app 4 times in 60 s"
                    await asyncio.sleep(0.25)
                assert float((await query('up{job="fictra"}'))[0]["value"][1]) == 1.0  # the token works
                empty = [(title, expr) for title, expr in _queries() if not await query(expr)]
                assert empty == [], f"dashboard queries without data: {empty}"
                [up] = await query("fictra_endpoint_up")
                assert up["metric"]["endpoint"] == "local"
                rules = (await http.get(f"{api}/rules")).json()["data"]["groups"]
                bad = [
                    (r["name"], r.get("lastError")) for g in rules for r in g["rules"] if r["health"] == "err"
                ]
                assert bad == [] and sum(len(g["rules"]) for g in rules) == 16
                assert await query("fictra:alerts_firing:sum_by_severity")
        finally:
            proc.kill()
            await proc.wait()
            stop.set()
            await server
            await pool.aclose()
