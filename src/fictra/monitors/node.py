"""Node health (polled): every RPC endpoint of the pool is probed with one JSON-RPC batch
(eth_chainId, eth_blockNumber, the latest block's header, net_peerCount, eth_syncing), timed on the
injected clock.

Per endpoint (labels ``{"endpoint": <redacted url>, "condition": ...}``): unreachable, slow_rpc,
stale_head (latest block older than ``head_age`` by the clock), lagging (more than ``max_lag_blocks``
behind the best endpoint), low_peers, syncing, wrong_chain (chain id differs from the manifest's);
``all_down`` when no endpoint answers. Each condition clears when the endpoint is healthy again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.chain.pool import Endpoint, RpcPool
from fictra.chain.rpc import Call, RpcMethodMissing
from fictra.clock import Clock
from fictra.errors import ConfigError, RpcError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.config import NodeHealthMonitor
from fictra.monitors.state import Conditions

CONDITIONS = ("unreachable", "slow_rpc", "stale_head", "lagging", "low_peers", "syncing", "wrong_chain")
_CORE: list[Call] = [
    ("eth_chainId", []),
    ("eth_blockNumber", []),
    ("eth_getBlockByNumber", ["latest", False]),
]
_EXTRA: list[Call] = [("net_peerCount", []), ("eth_syncing", [])]


@dataclass(slots=True)
class Probe:
    endpoint: str
    url: str = ""  # redacted
    error: str | None = None
    latency: float = 0.0
    chain_id: int | None = None
    head: int | None = None
    head_timestamp: int | None = None
    peers: int | None = None
    syncing: bool = False
    pool_note: str | None = None


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class NodeHealthCheck:
    def __init__(
        self,
        *,
        config: NodeHealthMonitor,
        pool: RpcPool,
        clock: Clock,
        expected_chain_id: int | None,
        endpoint_names: Sequence[str] | None = None,
    ) -> None:
        """``endpoint_names`` are the network config's endpoint names in pool order (alerts are labelled
        with them); without them an endpoint is named by its redacted URL."""
        self.config = config
        self.name = config.name
        self.interval: timedelta = config.interval
        self.pool = pool
        self.clock = clock
        self.expected_chain_id = expected_chain_id
        names = (
            list(endpoint_names) if endpoint_names is not None else [ep.health.url for ep in pool.endpoints]
        )
        if len(names) != len(pool.endpoints):
            raise ConfigError(
                f"Monitor '{config.name}': {len(names)} endpoint names for the {len(pool.endpoints)} RPC "
                f"endpoints of network '{pool.network}'; give one name per endpoint."
            )
        unknown = [e for e in config.endpoints if e not in names]
        if unknown:
            raise ConfigError(
                f"Monitor '{config.name}' key 'endpoints' names {', '.join(unknown)}, not an endpoint of "
                f"network '{pool.network}'. Known: {', '.join(names)}."
            )
        self.names = {id(ep): name for ep, name in zip(pool.endpoints, names, strict=True)}
        self.endpoints = [
            ep for ep in pool.endpoints if not config.endpoints or self.names[id(ep)] in config.endpoints
        ]
        self.conditions = Conditions(monitor=config.name, network=pool.network)
        self._missing: dict[str, set[str]] = {}  # endpoint label -> optional methods it lacks

    async def _answers(self, ep: Endpoint) -> dict[str, Any]:
        """One batch of the core probes plus the optional ones this endpoint supports (a node without
        net_peerCount, like Anvil, is remembered and no longer asked)."""
        missing = self._missing.setdefault(self.names[id(ep)], set())
        while True:
            calls = _CORE + [c for c in _EXTRA if c[0] not in missing]
            try:
                answers = await ep.client.batch(calls)
            except RpcMethodMissing as exc:
                gone = [m for m, _ in _EXTRA if m not in missing and m in exc.user_message]
                if not gone:
                    raise
                missing.update(gone)
                continue
            return {method: answer for (method, _), answer in zip(calls, answers, strict=True)}

    async def _probe(self, ep: Endpoint) -> Probe:
        label = self.names[id(ep)]
        probe = Probe(endpoint=label, url=ep.health.url)
        started = self.clock.monotonic()
        try:
            answers = await self._answers(ep)
            probe.latency = max(self.clock.monotonic() - started, 0.0)
            probe.chain_id = _int(answers["eth_chainId"])
            probe.head = _int(answers["eth_blockNumber"])
            header = answers["eth_getBlockByNumber"]
            probe.head_timestamp = _int(header["timestamp"]) if isinstance(header, dict) else None
            if "net_peerCount" in answers:
                probe.peers = _int(answers["net_peerCount"])
            probe.syncing = answers.get("eth_syncing") not in (False, None)
        except RpcError as exc:
            probe.error = exc.user_message
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            probe.error = f"endpoint '{label}' answered malformed health data ({type(exc).__name__})"
        probe.pool_note = ep.health.bad_reason
        return probe

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        await self.conditions.resume(session)
        probes = await asyncio.gather(*(self._probe(ep) for ep in self.endpoints))
        out = MonitorOutput()
        answering = [p for p in probes if p.error is None]
        best = max((p.head for p in answering if p.head is not None), default=None)
        for probe in probes:
            self._judge(probe, best, out)
        all_down = {"condition": "all_down"}
        if probes and not answering:
            self.conditions.hold(
                self._finding(
                    "all_down",
                    self.config.severity.all_down,
                    f"No RPC endpoint of network '{self.pool.network}' answers",
                    all_down,
                    {"endpoints": {p.endpoint: p.error for p in probes}},
                ),
                out,
            )
        else:
            self.conditions.release(all_down, out)
        return out

    def _finding(
        self,
        condition: str,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        evidence: dict[str, object],
    ) -> Finding:
        return Finding(
            monitor=self.name,
            severity=severity,
            summary=summary,
            labels=labels,
            network=self.pool.network,
            evidence={"condition": condition, **evidence},
        )

    def _judge(self, p: Probe, best: int | None, out: MonitorOutput) -> None:
        t, sev = self.config.thresholds, self.config.severity
        found: dict[str, tuple[Severity, str, dict[str, object]]] = {}
        if p.error is not None:
            found["unreachable"] = (
                sev.unreachable,
                f"RPC endpoint '{p.endpoint}' does not answer",
                {"error": p.error},
            )
        else:
            limit = t.rpc_latency.total_seconds()
            if p.latency > limit:
                found["slow_rpc"] = (
                    sev.slow_rpc,
                    f"RPC endpoint '{p.endpoint}' took {p.latency:.2f}s",
                    {"observed_s": p.latency, "threshold_s": limit},
                )
            if self.expected_chain_id is not None and p.chain_id != self.expected_chain_id:
                found["wrong_chain"] = (
                    sev.wrong_chain,
                    f"RPC endpoint '{p.endpoint}' is on chain id {p.chain_id}, "
                    f"expected {self.expected_chain_id}",
                    {"observed": p.chain_id, "expected": self.expected_chain_id},
                )
            if p.head_timestamp is not None:
                age = self.clock.now().timestamp() - p.head_timestamp
                if age > t.head_age.total_seconds():
                    found["stale_head"] = (
                        sev.stale_head,
                        f"RPC endpoint '{p.endpoint}' head {p.head} is {age:.0f}s old",
                        {"observed_age_s": age, "threshold_s": t.head_age.total_seconds(), "head": p.head},
                    )
            if best is not None and p.head is not None and best - p.head > t.max_lag_blocks:
                found["lagging"] = (
                    sev.lagging,
                    f"RPC endpoint '{p.endpoint}' is {best - p.head} blocks behind the best head {best}",
                    {"observed_lag": best - p.head, "threshold": t.max_lag_blocks, "best_head": best},
                )
            if t.min_peers > 0 and p.peers is not None and p.peers < t.min_peers:
                found["low_peers"] = (
                    sev.low_peers,
                    f"RPC endpoint '{p.endpoint}' has {p.peers} peers",
                    {"observed": p.peers, "threshold": t.min_peers},
                )
            if p.syncing:
                found["syncing"] = (sev.syncing, f"RPC endpoint '{p.endpoint}' is syncing", {})
        for condition in CONDITIONS:
            labels = {"endpoint": p.endpoint, "condition": condition}
            if condition in found:
                severity, summary, evidence = found[condition]
                evidence["url"] = p.url
                self.conditions.hold(self._finding(condition, severity, summary, labels, evidence), out)
            elif p.error is None or condition == "unreachable":
                self.conditions.release(labels, out)
