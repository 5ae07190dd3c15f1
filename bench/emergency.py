"""Alert to confirmed pause on the devnet — the time the runbook's circuit breaker takes when automatic
response is on.

A devnet with the FICTRA system, interval mining at ``--emergency-block-time`` seconds (1 s, as
``fictra up`` runs the devnet), and the platform as ``fictra up`` wires it (follower, monitors, alert
store, incidents, emergency runner; V3 keystores). The ``reserve-drain-pause`` policy is enabled through
its approved action, then ``--emergency-runs`` times: the reserve-drain scenario drains the reserve, the
P0 alert fires, the policy's pre-approved ``pause_all`` is signed with the guardian keystore, sent,
included and confirmed (2 confirmations), and verified; the runner records the time from the alert firing
to the confirmation. Between runs the contracts are unpaused through the Timelock and the reserve refilled,
and the breach alert is allowed to resolve.

Figures: p50 (the acceptance figure), min, max of alert→confirmed seconds, and the same in blocks (alert
block to confirmation block).

python -m bench emergency --emergency-runs 7 --emergency-block-time 1
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from fictra.alerting.models import Alert
from fictra.auth.actor import Actor
from fictra.auth.permissions import default_roles
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain, MiningMode
from fictra.devnet.deploy import deploy_system
from fictra.devnet.runtime import write_keystores
from fictra.devnet.scenarios import ScenarioContext, ScenarioStore, run_scenario
from fictra.devnet.state import DevnetPaths
from fictra.emergency import service as actions
from fictra.emergency.runner import ActionRunner
from fictra.platform.assemble import Parts, Timings, assemble
from fictra.platform.run import run as run_platform
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


def _person(name: str, role: str) -> Actor:
    return Actor(None, name, (role,), default_roles().permissions_of([role]), "session")


def _config(dest: Path, rpc_url: str) -> Path:
    shutil.copytree(REPO / "config", dest)
    network = yaml.safe_load((dest / "network.yaml").read_text())
    network["endpoints"] = [{"name": "node0", "url": rpc_url, "timeout": "2s"}]
    network.pop("manifest", None)
    (dest / "network.yaml").write_text(yaml.safe_dump(network))
    return dest


async def _until(what: str, probe: Any, *, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise RuntimeError(f"bench emergency: not done within {seconds:.0f}s: {what}")


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    runs = int(getattr(args, "emergency_runs", None) or 7)
    block_time = int(getattr(args, "emergency_block_time", None) or 1)
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        manifest = await deploy_system(node.rpc_url)
        chain = DevChain(node.rpc_url, manifest)
        await MiningMode(automine=False, interval=block_time).apply(chain.rpc)
        settings = load_settings(
            data_dir=Path(tmp) / "data", config_dir=_config(Path(tmp) / "config", node.rpc_url)
        )
        write_keystores(DevnetPaths(settings.devnet_dir))
        platform = await assemble(
            settings=settings,
            clock=SystemClock(),
            manifest=manifest,
            parts=Parts(response=False, notify=False, audit=False),  # incidents + emergency, as fictra up
            timings=Timings(incidents_tick=timedelta(seconds=0.5)),
        )
        runner = platform.emergency
        if runner is None:
            raise RuntimeError("assemble() built no emergency runner")
        stop = asyncio.Event()
        job = asyncio.create_task(run_platform(platform, stop=stop))
        scenarios = ScenarioContext(chain=chain, store=ScenarioStore(Path(tmp) / "scenarios.json"))
        seconds: list[float] = []
        blocks: list[int] = []
        try:
            await _enable_policy(platform, runner)
            for i in range(runs):
                taken, depth = await _one_run(platform, runner, scenarios)
                seconds.append(taken)
                blocks.append(depth)
                print(f"  run {i + 1}/{runs}: alert -> confirmed pause {taken:.2f}s ({depth} blocks)")
        finally:
            stop.set()
            await asyncio.wait_for(job, timeout=30)
            await platform.aclose()
            await chain.aclose()
    return {
        "what": "alert fired -> guardian pause confirmed (2 confirmations), automatic policy, devnet",
        "block_time_s": block_time,
        "runs": runs,
        "alert_to_confirmed_pause_s": {
            "p50": round(statistics.median(seconds), 3),
            "min": round(min(seconds), 3),
            "max": round(max(seconds), 3),
            "all": [round(s, 3) for s in seconds],
        },
        "alert_block_to_confirmation_blocks": {"p50": statistics.median(blocks), "all": blocks},
    }


async def _enable_policy(platform: Any, runner: ActionRunner) -> None:
    ops, security = _person("olga", "operations_manager"), _person("sam", "security_officer")
    async with platform.sessions.begin() as s:
        view = await actions.propose(
            s, kind="policy_enable", params={"policy": "reserve-drain-pause"}, actor=ops, clock=platform.clock
        )
    async with platform.sessions.begin() as s:
        await actions.approve(
            s, action_id=view.id, actor=security, clock=platform.clock, params_hash=view.params_hash
        )
    await runner.dry_run(view.id)
    done = await runner.execute(view.id, ops)
    if done.status != "verified":
        raise RuntimeError(f"bench emergency: enabling the policy ended {done.status}: {done.error}")


async def _one_run(platform: Any, runner: ActionRunner, scenarios: ScenarioContext) -> tuple[float, int]:
    async with platform.sessions() as s:
        before = {a.id for a in await actions.list_actions(s, limit=1000)}
    await run_scenario(scenarios, "reserve-drain")

    async def verified_pause() -> Any:
        async with platform.sessions() as s:
            found = [
                a
                for a in await actions.list_actions(s, limit=1000)
                if a.id not in before and a.kind == "pause_all" and a.trigger_alert_id is not None
            ]
        if found and found[0].status == "failed":
            raise RuntimeError(f"bench emergency: the pause failed: {found[0].error}")
        return found[0] if found and found[0].status == "verified" else None

    pause = await _until("the automatic pause verified", verified_pause, seconds=120)
    async with platform.sessions() as s:
        alert = await s.get(Alert, pause.trigger_alert_id)
        alert_block = int(alert.block_number or 0) if alert is not None else 0
    tx = pause.txs[-1]
    depth = (
        (tx.block_number or 0) + tx.confirmations - alert_block
    )  # the alert's block -> the confirming block
    taken = float(pause.alert_to_confirmed_seconds)

    # reset: unpause through the Timelock, refill the reserve, let the breach alert resolve
    await run_scenario(scenarios, "pause", undo=True)
    await run_scenario(scenarios, "reserve-drain", undo=True)

    async def resolved() -> bool:
        async with platform.sessions() as s:
            row = await s.get(Alert, pause.trigger_alert_id)
            return row is not None and str(row.status) != "firing"

    await _until("the reserve breach alert resolved", resolved, seconds=120)
    return taken, depth
