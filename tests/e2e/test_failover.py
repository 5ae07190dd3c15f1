"""Failover: two endpoints to the same chain; when the preferred one stops answering, processing goes on
through the other without a gap, and the node-health monitor raises an alert for the dead endpoint."""

from __future__ import annotations

import pytest

from chain.netkit import TcpProxy
from e2e.harness import start
from fictra.devnet.anvil import AnvilNode

pytestmark = [pytest.mark.e2e]


async def test_endpoint_stops_processing_continues_and_alert_fires(tmp_path) -> None:
    node = AnvilNode().start()
    first, second = await TcpProxy(node.port).start(), await TcpProxy(node.port).start()
    running = await start(tmp_path, node=node, urls=[first.url, second.url])
    try:
        start_block = await running.processed()
        blocks_before = running.platform.follower.status().counters["blocks"]
        await running.mine(5)
        await running.settle()

        await first.stop()
        for _ in range(4):  # activity while the first endpoint is dead
            await running.mine(5)
            await running.settle()
        alert = await running.poll_for_alert(
            lambda a: (
                a.monitor == "rpc-health"
                and a.labels.get("condition") == "unreachable"
                and a.labels.get("endpoint") == "node0"  # network.yaml's name of the first endpoint
            ),
            seconds=30,
        )
        assert alert.severity == "P1"
        assert not [
            a for a in await running.alerts(status="firing") if a.labels.get("condition") == "all_down"
        ]

        status = running.platform.follower.status()
        head = await running.head()
        assert status.last_block == head
        # every block from the first processed one to the head exactly once: no gap, no repeat
        assert status.counters["blocks"] - blocks_before == head - start_block
        health = {ep.url: ep for ep in status.endpoints}
        # the dead endpoint has failed and is no longer healthy: "degraded" after its first failed calls,
        # "down" once enough consecutive calls failed — how many the pool has tried by now depends on its
        # retry backoff, so either state is right here (under load it may not have retried yet)
        dead = health[first.url]
        assert str(dead.state) in ("degraded", "down") and dead.consecutive_errors >= 1, dead
        assert str(health[second.url].state) == "healthy", health[second.url]
    finally:
        await running.close()
        await second.stop()
