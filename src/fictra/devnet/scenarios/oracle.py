"""Oracle faults: a stalled feed, an outlier node, a price jump (``--feed``, default BRENT)."""

from __future__ import annotations

import asyncio

from fictra.devnet.feeds import FeedInfo, feed, feeds, latest_answer, submit_round
from fictra.devnet.scenarios.base import Scenario, ScenarioContext
from fictra.errors import ScenarioError


async def _nodes(ctx: ScenarioContext, count: int) -> list[str]:
    nodes = ctx.chain.role("oracle_nodes")
    if len(nodes) < count:
        raise ScenarioError(f"The manifest names {len(nodes)} oracle nodes; this scenario needs {count}.")
    return nodes[:count]


async def _refresh(ctx: ScenarioContext, info: FeedInfo) -> None:
    """A fresh round at the feed's current price from minSubmissions nodes."""
    _, answer, _ = await latest_answer(ctx.chain, info)
    minimum = int(await ctx.chain.call(info.name, "minSubmissions"))
    nodes = await _nodes(ctx, minimum)
    await submit_round(ctx.chain, info, [(n, answer) for n in nodes])


class OracleStall(Scenario):
    """A feed stops updating: the simulator skips it and chain time jumps past its heartbeat.

    The other feeds get a fresh round at their current price right after the jump, so only the
    stalled feed is stale. Undo: the feed gets a fresh round at its last price and the simulator
    updates it again.
    """

    name = "oracle-stall"

    async def apply(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        stalled = ctx.store.stalled_feeds()
        if info.name not in stalled:
            ctx.store.put(self.name, {"feeds": sorted(stalled | {info.name})})
        _, _, updated = await latest_answer(ctx.chain, info)
        age = await ctx.chain.chain_time() - updated
        if age <= info.heartbeat:
            await ctx.chain.increase_time(info.heartbeat - age + 60)
            others = [f for f in feeds(ctx.chain) if f.name not in stalled | {info.name}]
            await asyncio.gather(*(_refresh(ctx, other) for other in others))
        return f"{info.name} is stalled: its last update is now older than its {info.heartbeat}s heartbeat."

    async def undo(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        stalled = ctx.store.stalled_feeds() - {info.name}
        if stalled:
            ctx.store.put(self.name, {"feeds": sorted(stalled)})
        else:
            ctx.store.remove(self.name)
        await _refresh(ctx, info)
        return f"{info.name} updated again (fresh round at the last price)."


class OracleDeviation(Scenario):
    """In a new round one oracle node submits 50% away from the others (the median stays sane)."""

    name = "oracle-deviation"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        _, answer, _ = await latest_answer(ctx.chain, info)
        nodes = await _nodes(ctx, 4)
        answers = [(n, answer) for n in nodes[:3]] + [(nodes[3], answer * 3 // 2)]
        round_id = await submit_round(ctx.chain, info, answers)
        return f"{info.name} round {round_id}: node {nodes[3]} submitted {answer * 3 // 2} vs {answer}."


class OracleJump(Scenario):
    """A round whose median moves three times the feed's deviation threshold in one step."""

    name = "oracle-jump"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        _, answer, _ = await latest_answer(ctx.chain, info)
        jumped = answer + answer * 3 * info.deviation_bps // 10_000
        minimum = int(await ctx.chain.call(info.name, "minSubmissions"))
        nodes = await _nodes(ctx, minimum)
        round_id = await submit_round(ctx.chain, info, [(n, jumped) for n in nodes])
        return (
            f"{info.name} round {round_id} jumped from {answer} to {jumped} "
            f"({3 * info.deviation_bps} bps; threshold {info.deviation_bps})."
        )
