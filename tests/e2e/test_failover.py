"""Failover: two endpoints to the same chain; when the preferred one stops answering, processing goes on
through the other without a gap, and the node-health monitor raises an alert for the dead endpoint."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

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


async def test_catch_up_past_the_nodes_state_window_finishes_with_the_gap_recorded(tmp_path) -> None:
    # a pruning node: only the last 64 states are kept, so the contract-status and oracle monitors'
    # reads at the older batches' blocks are answered "BlockOutOfRangeError"
    node = AnvilNode(extra_args=["--prune-history", "64"]).start()

    def mine_before_the_platform_starts(_config_dir: Path) -> None:
        # 400 blocks at once, a minute apart, mined after the deployment and before the follower (which
        # starts at the block after the deployment) runs: a long catch-up during which the price feeds go
        # stale. Mined while the follower runs, a fast follower could read each block while the node still
        # kept its state, and there would be no gap to test.
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": [hex(400), hex(60)]})
        request = urllib.request.Request(
            node.rpc_url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert "error" not in json.loads(answer.read())

    running = await start(
        tmp_path, node=node, configure=mine_before_the_platform_starts, follow_from_deployment=True
    )
    try:
        await running.settle(seconds=60)
        status = running.platform.follower.status()
        assert status.last_block == await running.head()
        assert status.counters["rpc_outages"] == 0, "nothing failed: the reads fell back to the head"
        fallbacks = status.counters["state_fallbacks"]
        assert fallbacks >= 1
        gaps = status.state_gaps
        assert gaps["first_block"] is not None and gaps["last_block"] is not None
        assert gaps["last_block"] < status.last_block - 64
        assert "BlockOutOfRange" in str(gaps["last_error"])
        # the staleness was first judged from a read the node answered at the head: the alert says so
        stale = [
            a
            for a in await running.alerts(status="firing")
            if a.monitor == "commodity-oracles" and a.labels.get("condition") == "stale"
        ]
        assert stale, [(a.monitor, a.labels) for a in await running.alerts()]
        marked = [a for a in stale if a.evidence.get("state_read_at") == "head"]
        assert marked, [a.evidence for a in stale]
        assert "read at the head" in str(marked[0].evidence["state_note"])
        # at the head again, reads are at their own block: no new gap
        await running.mine(3)
        await running.settle()
        assert running.platform.follower.status().counters["state_fallbacks"] == fallbacks
    finally:
        await running.close()
