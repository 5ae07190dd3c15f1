"""Oracle, node and token scenarios: each effect proven by reading the chain; undo where reversible."""

from __future__ import annotations

import asyncio

import pytest

from fictra.clock import FakeClock
from fictra.devnet.anvil import rpc_call
from fictra.devnet.chainutil import DevChain
from fictra.devnet.feeds import feed, feeds, latest_answer
from fictra.devnet.scenarios import SCENARIOS, ScenarioContext, get_scenario, run_scenario
from fictra.devnet.simulate import SimConfig, Simulator
from fictra.errors import DevnetError, ScenarioError


async def test_oracle_stall_makes_the_feed_stale_and_undo_refreshes_it(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    info = feed(chain, "BRENT")
    await run_scenario(ctx, "oracle-stall")
    _, _, updated = await latest_answer(chain, info)
    now = await chain.chain_time()
    assert now - updated > info.heartbeat
    for other in feeds(chain):
        if other.name != info.name:  # only the stalled feed is stale
            assert now - (await latest_answer(chain, other))[2] < other.heartbeat, other.name
    assert ctx.store.stalled_feeds() == {"Feed:BRENT"}
    await run_scenario(ctx, "oracle-stall")  # idempotent
    assert ctx.store.stalled_feeds() == {"Feed:BRENT"}
    await run_scenario(ctx, "oracle-stall", undo=True)
    _, _, updated = await latest_answer(chain, info)
    assert await chain.chain_time() - updated < info.heartbeat
    assert ctx.store.stalled_feeds() == set()


async def test_oracle_deviation_one_node_far_from_the_others(ctx: ScenarioContext, chain: DevChain) -> None:
    info = feed(chain, "WTI")
    ctx.options.feed = "wti"
    _, before, _ = await latest_answer(chain, info)
    await run_scenario(ctx, "oracle-deviation")
    round_id, answer, _ = await latest_answer(chain, info)
    assert answer == before  # the median ignores the outlier
    nodes = chain.role("oracle_nodes")
    submissions = [await chain.call(info.name, "submissionOf", round_id, n) for n in nodes]
    assert all(submissions)  # every node answered: the round is complete
    outliers = [s for s in submissions if abs(s - answer) * 10 > answer * 4]
    assert len(outliers) == 1


async def test_oracle_jump_moves_past_the_deviation_threshold(ctx: ScenarioContext, chain: DevChain) -> None:
    info = feed(chain, "BRENT")
    _, before, _ = await latest_answer(chain, info)
    await run_scenario(ctx, "oracle-jump")
    _, after, _ = await latest_answer(chain, info)
    assert abs(after - before) * 10_000 > before * info.deviation_bps


async def test_unknown_feed_lists_the_known_ones(ctx: ScenarioContext) -> None:
    ctx.options.feed = "PORK"
    with pytest.raises(DevnetError, match=r"Unknown feed 'PORK'. Known feeds: .*BRENT"):
        await run_scenario(ctx, "oracle-jump")


async def test_node_down_freezes_the_rpc_and_undo_resumes(ctx: ScenarioContext, chain: DevChain) -> None:
    url = chain.rpc_url
    try:
        await run_scenario(ctx, "node-down")
        with pytest.raises(OSError):
            await asyncio.to_thread(rpc_call, url, "eth_blockNumber", None, 0.5)
        assert "node-down" in ctx.store.load()
    finally:
        await run_scenario(ctx, "node-down", undo=True)
    assert isinstance(await asyncio.to_thread(rpc_call, url, "eth_blockNumber"), str)
    assert "node-down" not in ctx.store.load()


async def test_node_down_without_a_pid_is_a_clear_error(ctx: ScenarioContext) -> None:
    ctx.anvil_pid = None
    with pytest.raises(ScenarioError, match="node-down needs the Anvil pid"):
        await run_scenario(ctx, "node-down")


async def test_gas_spike_raises_the_base_fee_and_undo_lowers_it(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    await run_scenario(ctx, "gas-spike")
    block = await chain.rpc.call("eth_getBlockByNumber", ["latest", False])
    assert int(block["baseFeePerGas"], 16) >= 500 * 10**9
    await run_scenario(ctx, "gas-spike", undo=True)
    block = await chain.rpc.call("eth_getBlockByNumber", ["latest", False])
    assert int(block["baseFeePerGas"], 16) <= 10 * 10**9


async def test_large_transfer_moves_most_of_a_balance(ctx: ScenarioContext, chain: DevChain) -> None:
    a, b = chain.role("traders")[:2]
    before = await chain.call("PaymentToken", "balanceOf", a)
    await run_scenario(ctx, "large-transfer")
    transfers = await chain.contract("PaymentToken").events.Transfer.get_logs(from_block="latest")
    big = [t for t in transfers if t["args"]["from"] == a and t["args"]["to"] == b]
    assert big and big[0]["args"]["value"] >= before * 8 // 10
    with pytest.raises(ScenarioError, match="cannot be undone"):
        await run_scenario(ctx, "large-transfer", undo=True)


async def test_reserve_drain_breaks_collateral_and_undo_restores(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    before = await chain.call("Reserve", "collateralRatioBps")
    assert before >= 10_000
    await run_scenario(ctx, "reserve-drain")
    assert await chain.call("Reserve", "collateralRatioBps") < 10_000
    withdrawals = await chain.contract("Reserve").events.Withdrawn.get_logs(from_block=0)
    assert withdrawals
    await run_scenario(ctx, "reserve-drain")  # idempotent
    await run_scenario(ctx, "reserve-drain", undo=True)
    assert await chain.call("Reserve", "collateralRatioBps") == before


async def test_failed_tx_burst_mines_reverted_transactions(ctx: ScenarioContext, chain: DevChain) -> None:
    start = await chain.head()
    ctx.options.count = 7
    await run_scenario(ctx, "failed-tx-burst")
    failed = 0
    for number in range(start + 1, await chain.head() + 1):
        block = await chain.rpc.call("eth_getBlockByNumber", [hex(number), False])
        for tx in block["transactions"]:
            receipt = await chain.rpc.call("eth_getTransactionReceipt", [tx])
            failed += receipt["status"] == "0x0"
    assert failed == 7


async def test_reorg_replaces_the_last_blocks_and_keeps_their_transactions(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    await chain.mine(3)
    a, b = chain.role("traders")[:2]
    receipt = await chain.send(a, "PaymentToken", "transfer", b, 5)
    await chain.mine(2)
    head = await chain.head()
    heights = (head - 3, head - 2, head - 1, head)

    async def hashes() -> list[str]:
        return [(await chain.rpc.call("eth_getBlockByNumber", [hex(n), False]))["hash"] for n in heights]

    old = await hashes()
    ctx.options.depth = 3
    message = await run_scenario(ctx, "reorg")
    assert "1 transaction(s) moved" in message
    new = await hashes()
    assert new[0] == old[0] and all(n != o for n, o in zip(new[1:], old[1:], strict=True))
    assert await chain.head() == head
    moved = await chain.rpc.call("eth_getTransactionReceipt", [receipt["transactionHash"].to_0x_hex()])
    assert moved["status"] == "0x1"
    assert moved["blockHash"] != receipt["blockHash"].to_0x_hex()


async def test_reorg_keeps_a_transaction_sent_by_an_impersonated_account(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    await run_scenario(ctx, "unauthorized-role-grant")  # sent from the impersonated Timelock
    await chain.mine(1)
    ctx.options.depth = 3
    await run_scenario(ctx, "reorg")
    assert await chain.call("PaymentToken", "hasRole", b"\x00" * 32, chain.role("attacker")[0])


async def test_reorg_deeper_than_the_chain_is_refused(ctx: ScenarioContext, chain: DevChain) -> None:
    ctx.options.depth = 10**6
    with pytest.raises(ScenarioError, match="--depth is 1000000"):
        await run_scenario(ctx, "reorg")


def test_every_scenario_is_documented() -> None:
    for name, cls in SCENARIOS.items():
        assert cls.summary(), name
        assert get_scenario(name).name == name
    with pytest.raises(ScenarioError, match=r"Unknown scenario 'x'. Known scenarios: oracle-stall"):
        get_scenario("x")


async def test_oracle_scenarios_while_the_simulator_submits_rounds(
    ctx: ScenarioContext, chain: DevChain
) -> None:
    info = feed(chain, "BRENT")
    sim = Simulator(
        chain,
        config=SimConfig(rate=40, duration=4, seed=4, kinds=("oracle",)),
        store=ctx.store,
        clock=FakeClock(),
    )
    running = asyncio.create_task(sim.run())
    await run_scenario(ctx, "oracle-jump")
    await run_scenario(ctx, "oracle-stall")
    stats = await running
    assert stats.failed == 0, stats.errors
    _, _, updated = await latest_answer(chain, info)
    assert await chain.chain_time() - updated > info.heartbeat
