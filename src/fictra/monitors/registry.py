"""Build the runnable monitors from their configs (what ``fictra up`` calls).

Block-driven families become :class:`~fictra.monitors.base.Monitor` values, node health becomes a
:class:`~fictra.monitors.base.PolledMonitor`; every event_rule config is folded into one
:class:`~fictra.monitors.rules_monitor.RulesMonitor`. Disabled monitors are skipped. A config naming something
the deployment lacks raises :class:`~fictra.errors.ConfigError` naming the monitor and key.
"""

from __future__ import annotations

from collections.abc import Sequence

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.errors import ConfigError
from fictra.monitors.anomaly import AnomalyCheck
from fictra.monitors.base import Monitor, PolledMonitor
from fictra.monitors.concentration import ConcentrationCheck
from fictra.monitors.config import (
    AnomalyMonitor,
    ConcentrationMonitor,
    ContractStatusMonitor,
    GasMonitor,
    MonitorConfig,
    NodeHealthMonitor,
    OracleMonitor,
    TransactionsMonitor,
)
from fictra.monitors.contracts import ContractStatusCheck
from fictra.monitors.gas import GasCheck
from fictra.monitors.node import NodeHealthCheck
from fictra.monitors.oracle import OracleCheck
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.monitors.transactions import TransactionsCheck
from fictra.rules.config import EventRuleConfig


def build_monitors(
    *,
    monitors: Sequence[MonitorConfig],
    manifest: Manifest,
    pool: RpcPool,
    clock: Clock,
    endpoint_names: Sequence[str] | None = None,
) -> tuple[list[Monitor], list[PolledMonitor]]:
    """(block-driven monitors, polled monitors) for the enabled configs, in config order.

    ``endpoint_names``: the network config's endpoint names in the pool's order (node-health alerts
    and its ``endpoints`` key use them); without them endpoints are named by their redacted URL."""
    names = [m.name for m in monitors]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"Monitor name(s) {', '.join(duplicates)} are used more than once; names must be unique."
        )
    block: list[Monitor] = []
    polled: list[PolledMonitor] = []
    rules: list[EventRuleConfig] = []
    for config in monitors:
        if not config.enabled:
            continue
        if isinstance(config, EventRuleConfig):
            rules.append(config)
        elif isinstance(config, NodeHealthMonitor):
            polled.append(
                NodeHealthCheck(
                    config=config,
                    pool=pool,
                    clock=clock,
                    expected_chain_id=manifest.chain_id,
                    endpoint_names=endpoint_names,
                )
            )
        elif isinstance(config, TransactionsMonitor):
            block.append(TransactionsCheck(config=config, manifest=manifest))
        elif isinstance(config, GasMonitor):
            block.append(GasCheck(config=config, manifest=manifest, clock=clock))
        elif isinstance(config, ContractStatusMonitor):
            block.append(ContractStatusCheck(config=config, manifest=manifest, pool=pool, clock=clock))
        elif isinstance(config, OracleMonitor):
            block.append(OracleCheck(config=config, manifest=manifest, pool=pool))
        elif isinstance(config, AnomalyMonitor):
            block.append(AnomalyCheck(config=config, manifest=manifest, clock=clock))
        elif isinstance(config, ConcentrationMonitor):
            block.append(ConcentrationCheck(config=config, manifest=manifest))
    if rules:
        block.insert(0, RulesMonitor.from_manifest(rules, manifest))
    return block, polled
