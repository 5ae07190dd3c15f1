"""build_monitors from the shipped default config, and a clean run: a short seeded simulator run
through every default monitor raises no P0/P1 finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from fictra.alerting.findings import Severity
from fictra.chain.fetch import fetch_blocks
from fictra.chain.manifest import Manifest
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import SystemClock
from fictra.devnet.simulate import SimConfig, Simulator
from fictra.errors import ConfigError
from fictra.monitors.anomaly import AnomalyCheck
from fictra.monitors.base import Monitor, MonitorOutput, PolledMonitor
from fictra.monitors.config import GasMonitor, MonitorConfig
from fictra.monitors.contracts import ContractStatusCheck
from fictra.monitors.gas import GasCheck
from fictra.monitors.node import NodeHealthCheck
from fictra.monitors.oracle import OracleCheck
from fictra.monitors.registry import build_monitors
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.monitors.transactions import TransactionsCheck
from fictra.platform.config_set import load_config_set
from monitors.rig import Rig


def default_configs(config_dir: Path, manifest: Manifest) -> list[MonitorConfig]:
    loaded = load_config_set(config_dir, manifest=manifest)
    return [*loaded.monitors, *loaded.rules]


async def test_default_config_builds_every_family(rig: Rig, config_dir: Path) -> None:
    configs = default_configs(config_dir, rig.manifest)
    block, polled = build_monitors(
        monitors=configs, manifest=rig.manifest, pool=rig.pool, clock=SystemClock(), endpoint_names=["local"]
    )
    kinds = [type(m) for m in block]
    assert kinds[0] is RulesMonitor and kinds.count(RulesMonitor) == 1
    for family in (TransactionsCheck, GasCheck, ContractStatusCheck, OracleCheck, AnomalyCheck):
        assert family in kinds
    assert [type(p) for p in polled] == [NodeHealthCheck]
    node = polled[0]
    assert isinstance(node, NodeHealthCheck) and list(node.names.values()) == ["local"]
    assert all(isinstance(m, Monitor) for m in block) and all(isinstance(p, PolledMonitor) for p in polled)
    names = {m.name for m in block if not isinstance(m, RulesMonitor)}
    assert names == {c.name for c in configs if c.type not in ("event_rule", "node_health")}


async def test_disabled_monitors_are_skipped(rig: Rig, config_dir: Path) -> None:
    configs = [
        c.model_copy(update={"enabled": False}) if c.type in ("gas", "event_rule") else c
        for c in default_configs(config_dir, rig.manifest)
    ]
    block, _polled = build_monitors(
        monitors=configs, manifest=rig.manifest, pool=rig.pool, clock=SystemClock()
    )
    assert not any(isinstance(m, GasCheck | RulesMonitor) for m in block)


def test_duplicate_names_are_rejected(monitors_manifest: Manifest) -> None:
    gas = GasMonitor(type="gas", name="same")
    with pytest.raises(ConfigError, match="same"):
        build_monitors(monitors=[gas, gas], manifest=monitors_manifest, pool=None, clock=SystemClock())  # type: ignore[arg-type]


def test_unknown_contract_names_the_problem(monitors_manifest: Manifest) -> None:
    gas = GasMonitor(type="gas", name="g", contracts=["Feed:NOPE"])
    with pytest.raises(ConfigError, match="Feed:NOPE"):
        build_monitors(monitors=[gas], manifest=monitors_manifest, pool=None, clock=SystemClock())  # type: ignore[arg-type]


@pytest.mark.slow
async def test_clean_simulated_run_raises_no_p0_or_p1(rig: Rig, config_dir: Path) -> None:
    """Only the monitor families are judged here: the default event rules (config/rules, owned by the
    rules engine) flag every reserve withdrawal as P1, which the simulator makes as normal activity."""
    block, polled = build_monitors(
        monitors=default_configs(config_dir, rig.manifest),
        manifest=rig.manifest,
        pool=rig.pool,
        clock=SystemClock(),
    )
    stats = await Simulator(rig.dev, config=SimConfig(rate=40, duration=3, seed=7)).run()
    assert stats.sent > 20, stats
    head = await rig.dev.head()
    out = MonitorOutput()
    for first in range(rig.seen + 1, head + 1, 10):  # batches of 10 blocks, like a catch-up
        blocks = await fetch_blocks(rig.pool, first=first, last=min(first + 9, head))
        batch = BlockBatch(network="devnet", blocks=tuple(blocks), head=head, at_head=False)
        for monitor in block:
            if isinstance(monitor, RulesMonitor):
                continue
            out.extend(await monitor.on_batch(batch, rig.session))
    for polled_monitor in polled:
        out.extend(await polled_monitor.poll(rig.session))
    serious = [f.summary for f in out.findings if f.severity in (Severity.P0, Severity.P1)]
    assert serious == [], serious
    assert head - rig.seen > 10


async def test_catch_up_through_the_deployment(rig: Rig, config_dir: Path) -> None:
    """From the manifest's first block (contracts not deployed or not initialized yet at the early
    blocks) to the head, in small batches: no read fails, and the deployment raises nothing serious."""
    block, _polled = build_monitors(
        monitors=default_configs(config_dir, rig.manifest),
        manifest=rig.manifest,
        pool=rig.pool,
        clock=SystemClock(),
    )
    families = [m for m in block if not isinstance(m, RulesMonitor)]
    head = await rig.dev.head()
    out = MonitorOutput()
    for first in range(max(rig.manifest.deployed_block, 1), head + 1, 3):
        blocks = await fetch_blocks(rig.pool, first=first, last=min(first + 2, head))
        batch = BlockBatch(network="devnet", blocks=tuple(blocks), head=head, at_head=False)
        for monitor in families:
            out.extend(await monitor.on_batch(batch, rig.session))
    serious = [f.summary for f in out.findings if f.severity in (Severity.P0, Severity.P1)]
    assert serious == [], serious
    granted = [f for f in out.findings if f.labels.get("condition") == "role_granted"]
    assert granted, "the deployment's role grants are seen as (P2) role_granted findings"


async def test_every_family_accepts_an_empty_batch_and_a_reorg(rig: Rig, config_dir: Path) -> None:
    block, _polled = build_monitors(
        monitors=default_configs(config_dir, rig.manifest),
        manifest=rig.manifest,
        pool=rig.pool,
        clock=SystemClock(),
    )
    empty = BlockBatch(network="devnet", blocks=(), head=rig.seen, at_head=True)
    reorg = Reorg(network="devnet", common_ancestor=rig.seen - 1, depth=1, old_hashes=("0x" + "00" * 32,))
    for monitor in block:
        out = await monitor.on_batch(empty, rig.session)
        assert out.findings == [] and out.clears == [], monitor.name
        gone = await monitor.on_reorg(reorg, rig.session)
        assert gone.findings == [], monitor.name
