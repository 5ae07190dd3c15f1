"""Node health against real endpoints: a healthy Anvil, a dead port, an Anvil on another chain id, a
lagging node and a stale head judged with a FakeClock; all_down when nothing answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from fictra.alerting.findings import Severity
from fictra.chain.pool import RpcPool
from fictra.clock import FakeClock
from fictra.devnet.anvil import AnvilNode, free_port, rpc_call
from fictra.errors import ConfigError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.config import NodeHealthMonitor
from fictra.monitors.node import NodeHealthCheck


@pytest.fixture(scope="module")
def good() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="module")
def other_chain() -> Iterator[AnvilNode]:
    with AnvilNode(chain_id=999) as node:
        yield node


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock(start=datetime.now(UTC))


@pytest.fixture
async def pools() -> AsyncIterator[list[RpcPool]]:
    made: list[RpcPool] = []
    yield made
    for pool in made:
        await pool.aclose()


def make(
    pools: list[RpcPool], urls: list[str], clock: FakeClock, **kwargs: Any
) -> tuple[RpcPool, NodeHealthCheck]:
    pool = RpcPool(network="devnet", urls=urls, clock=clock, chain_id=31337, timeout=2)
    pools.append(pool)
    config = NodeHealthMonitor.model_validate({"type": "node_health", "name": "nodes", **kwargs})
    return pool, NodeHealthCheck(config=config, pool=pool, clock=clock, expected_chain_id=31337)


def conditions(out: MonitorOutput) -> set[tuple[str, str]]:
    return {(f.labels.get("endpoint", "-"), f.labels["condition"]) for f in out.findings}


async def test_healthy_endpoint_is_quiet(good: AnvilNode, fake: FakeClock, pools: list[RpcPool]) -> None:
    _pool, monitor = make(pools, [good.rpc_url], fake, thresholds={"min_peers": 0})
    out = await monitor.poll(None)  # type: ignore[arg-type]
    assert out.findings == [] and out.clears == []


async def test_peer_count_unknown_on_anvil_is_not_low(
    good: AnvilNode, fake: FakeClock, pools: list[RpcPool]
) -> None:
    """Anvil lacks net_peerCount: the probe remembers that and judges the rest, never inventing 0 peers."""
    pool, monitor = make(pools, [good.rpc_url], fake, thresholds={"min_peers": 1})
    for _ in range(2):
        out = await monitor.poll(None)  # type: ignore[arg-type]
        assert out.findings == []
    assert monitor._missing[pool.endpoints[0].health.url] == {"net_peerCount"}


async def test_dead_port_is_unreachable_then_all_down(
    good: AnvilNode, fake: FakeClock, pools: list[RpcPool]
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    pool, monitor = make(pools, [good.rpc_url, dead], fake, thresholds={"min_peers": 0})
    out = await monitor.poll(None)  # type: ignore[arg-type]
    dead_label = pool.endpoints[1].health.url
    assert conditions(out) == {(dead_label, "unreachable")}
    (finding,) = out.findings
    assert finding.severity is Severity.P1 and finding.block is None
    assert "unreachable" in str(finding.evidence["error"])
    _pool, only_dead = make(pools, [dead], fake)
    down = await only_dead.poll(None)  # type: ignore[arg-type]
    assert ("-", "all_down") in conditions(down)
    (all_down,) = [f for f in down.findings if f.labels["condition"] == "all_down"]
    assert all_down.severity is Severity.P0


async def test_wrong_chain_id(
    good: AnvilNode, other_chain: AnvilNode, fake: FakeClock, pools: list[RpcPool]
) -> None:
    pool, monitor = make(pools, [good.rpc_url, other_chain.rpc_url], fake, thresholds={"min_peers": 0})
    out = await monitor.poll(None)  # type: ignore[arg-type]
    (wrong,) = out.findings
    assert wrong.labels == {"endpoint": pool.endpoints[1].health.url, "condition": "wrong_chain"}
    assert wrong.severity is Severity.P0 and wrong.evidence["observed"] == 999


async def test_stale_head_by_the_injected_clock_then_fresh_block(
    good: AnvilNode, fake: FakeClock, pools: list[RpcPool]
) -> None:
    _pool, monitor = make(pools, [good.rpc_url], fake, thresholds={"min_peers": 0, "head_age": "60s"})
    rpc_call(good.rpc_url, "evm_mine", [int(fake.now().timestamp())])
    assert (await monitor.poll(None)).findings == []  # type: ignore[arg-type]
    fake.advance(120)
    out = await monitor.poll(None)  # type: ignore[arg-type]
    (stale,) = out.findings
    assert stale.labels["condition"] == "stale_head" and stale.severity is Severity.P1
    assert float(stale.evidence["observed_age_s"]) >= 120  # type: ignore[arg-type]
    again = await monitor.poll(None)  # type: ignore[arg-type]
    assert again.findings == [], "a condition that holds is reported once"
    rpc_call(good.rpc_url, "evm_mine", [int(fake.now().timestamp())])
    done = await monitor.poll(None)  # type: ignore[arg-type]
    assert [c.labels for c in done.clears] == [stale.labels]


async def test_lagging_endpoint(fake: FakeClock, pools: list[RpcPool]) -> None:
    with AnvilNode() as ahead, AnvilNode() as behind:
        rpc_call(ahead.rpc_url, "anvil_mine", ["0xa"])
        pool, monitor = make(
            pools, [ahead.rpc_url, behind.rpc_url], fake, thresholds={"min_peers": 0, "head_age": "1d"}
        )
        out = await monitor.poll(None)  # type: ignore[arg-type]
        (lag,) = out.findings
        assert lag.labels == {"endpoint": pool.endpoints[1].health.url, "condition": "lagging"}
        assert lag.evidence["observed_lag"] == 10 and lag.evidence["threshold"] == 5
        rpc_call(behind.rpc_url, "anvil_mine", ["0xa"])
        assert [c.labels for c in (await monitor.poll(None)).clears] == [lag.labels]  # type: ignore[arg-type]


async def test_unreachable_clears_when_it_answers_again(fake: FakeClock, pools: list[RpcPool]) -> None:
    port = free_port()
    _pool, monitor = make(
        pools, [f"http://127.0.0.1:{port}"], fake, thresholds={"min_peers": 0, "head_age": "1d"}
    )
    out = await monitor.poll(None)  # type: ignore[arg-type]
    assert {f.labels["condition"] for f in out.findings} == {"unreachable", "all_down"}
    with AnvilNode(port=port):
        back = await monitor.poll(None)  # type: ignore[arg-type]
    assert {c.labels["condition"] for c in back.clears} == {"unreachable", "all_down"}
    assert back.findings == []


def test_unknown_endpoint_name_is_a_config_error(fake: FakeClock) -> None:
    pool = RpcPool(network="devnet", urls=["http://127.0.0.1:1"], clock=fake)
    config = NodeHealthMonitor(type="node_health", name="n", endpoints=["http://nowhere:8545"])
    with pytest.raises(ConfigError, match="nowhere"):
        NodeHealthCheck(config=config, pool=pool, clock=fake, expected_chain_id=1)


class SlowClock(FakeClock):
    """Every monotonic reading is ``step`` seconds after the previous one: each RPC call 'takes' step."""

    def __init__(self, step: float) -> None:
        super().__init__(start=datetime.now(UTC))
        self.step = step

    def monotonic(self) -> float:
        self.advance(self.step)
        return super().monotonic()


async def test_slow_rpc_by_the_injected_clock(good: AnvilNode, pools: list[RpcPool]) -> None:
    clock = SlowClock(3.0)
    pool, monitor = make(pools, [good.rpc_url], clock, thresholds={"min_peers": 0, "head_age": "1d"})
    (slow,) = (await monitor.poll(None)).findings  # type: ignore[arg-type]
    assert slow.labels == {"endpoint": pool.endpoints[0].health.url, "condition": "slow_rpc"}
    assert slow.severity is Severity.P2 and slow.evidence["threshold_s"] == 2.0
    clock.step = 0.1
    assert [c.labels for c in (await monitor.poll(None)).clears] == [slow.labels]  # type: ignore[arg-type]


async def test_endpoints_named_by_the_network_config(
    good: AnvilNode, fake: FakeClock, pools: list[RpcPool]
) -> None:
    dead = f"http://user:secret@127.0.0.1:{free_port()}/?key=abc"
    pool = RpcPool(network="devnet", urls=[good.rpc_url, dead], clock=fake, chain_id=31337, timeout=2)
    pools.append(pool)
    config = NodeHealthMonitor.model_validate(
        {"type": "node_health", "name": "nodes", "endpoints": ["backup"], "thresholds": {"min_peers": 0}}
    )
    monitor = NodeHealthCheck(
        config=config, pool=pool, clock=fake, expected_chain_id=31337, endpoint_names=["local", "backup"]
    )
    out = await monitor.poll(None)  # type: ignore[arg-type]
    # only "backup" is watched, so it being down is also "all (watched) endpoints down"
    assert {tuple(sorted(f.labels.items())) for f in out.findings} == {
        (("condition", "unreachable"), ("endpoint", "backup")),
        (("condition", "all_down"),),
    }
    for finding in out.findings:
        assert "secret" not in str(finding.evidence) and "key=abc" not in str(finding.evidence)
        assert "secret" not in finding.summary
    with pytest.raises(ConfigError, match="one name per endpoint"):
        NodeHealthCheck(config=config, pool=pool, clock=fake, expected_chain_id=31337, endpoint_names=["x"])
