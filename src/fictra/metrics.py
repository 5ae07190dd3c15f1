"""Prometheus metrics of the platform, in one registry built by :func:`new_registry`.
Every series, its labels and their values are listed in ``docs/metrics.md``, generated from the registry
by :mod:`fictra.platform.metrics_doc`.

One :class:`Metrics` object is created per process (or per test) and passed down — no global
registry — so tests can read values back and several platforms can live in one test process.
Exposed at ``/metrics`` by the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    follower_lag_blocks: Gauge
    follower_head: Gauge
    follower_processed_block: Gauge
    blocks_processed: Counter
    transactions_processed: Counter
    rpc_latency_seconds: Histogram
    rpc_errors: Counter
    endpoint_up: Gauge
    reorgs: Counter
    reorg_depth: Histogram
    alerts: Gauge
    block_to_alert_seconds: Histogram


def new_registry() -> Metrics:
    reg = CollectorRegistry(auto_describe=True)
    net = ["network"]
    ep = ["network", "endpoint"]
    return Metrics(
        registry=reg,
        follower_lag_blocks=Gauge(
            "fictra_follower_lag_blocks", "Chain head minus last processed block.", net, registry=reg
        ),
        follower_head=Gauge("fictra_follower_head_block", "Best chain head seen.", net, registry=reg),
        follower_processed_block=Gauge(
            "fictra_follower_processed_block", "Last processed block.", net, registry=reg
        ),
        blocks_processed=Counter(
            "fictra_blocks_processed", "Blocks processed by the follower.", net, registry=reg
        ),
        transactions_processed=Counter(
            "fictra_transactions_processed", "Transactions processed.", net, registry=reg
        ),
        rpc_latency_seconds=Histogram(
            "fictra_rpc_latency_seconds",
            "JSON-RPC request latency.",
            ep,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=reg,
        ),
        rpc_errors=Counter("fictra_rpc_errors", "JSON-RPC errors and timeouts.", ep, registry=reg),
        endpoint_up=Gauge(
            "fictra_endpoint_up", "1 when the endpoint is healthy, 0 when down.", ep, registry=reg
        ),
        reorgs=Counter("fictra_reorgs", "Chain reorganisations detected.", net, registry=reg),
        reorg_depth=Histogram(
            "fictra_reorg_depth_blocks",
            "Depth of detected reorgs.",
            net,
            buckets=(1, 2, 3, 4, 5, 8, 16, 32, 64),
            registry=reg,
        ),
        alerts=Gauge(
            "fictra_alerts",
            "Firing alerts by severity and confirmation (provisional until their block is deep enough).",
            ["severity", "status", "confirmation"],
            registry=reg,
        ),
        block_to_alert_seconds=Histogram(
            "fictra_block_to_alert_seconds",
            "From a block's arrival to its alerts stored.",
            net,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=reg,
        ),
    )
