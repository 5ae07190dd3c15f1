"""Oracle faults: a stalled feed, an outlier node, a price jump (``--feed``, default BRENT)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fictra.devnet.feeds import FeedInfo, feed, feeds, latest_answer, submit_round
from fictra.devnet.scenarios.base import Scenario, ScenarioContext
from fictra.errors import FictraError, ScenarioError


async def _nodes(ctx: ScenarioContext, count: int) -> list[str]:
    """The feed's oracle nodes (all of them: a round every node answered is complete at once)."""
    nodes = ctx.chain.role("oracle_nodes")
    if len(nodes) < count:
        raise ScenarioError(f"The manifest names {len(nodes)} oracle nodes; this scenario needs {count}.")
    return nodes


Answers = Callable[[int, list[str]], list[tuple[str, int]]]


async def _submit(ctx: ScenarioContext, info: FeedInfo, nodes: int, answers: Answers) -> tuple[int, int]:
    """Submit a new round: ``answers(current answer, nodes)`` -> [(node, answer)...]; returns (round id,
    the answer it started from). A running simulator may open the same round at the same moment; then
    the round is retried on the next round id."""
    for attempt in range(3):
        _, answer, _ = await latest_answer(ctx.chain, info)
        try:
            return await submit_round(ctx.chain, info, answers(answer, await _nodes(ctx, nodes))), answer
        except FictraError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _refresh(ctx: ScenarioContext, info: FeedInfo) -> None:
    """A fresh, complete round at the feed's current price from every node."""
    minimum = int(await ctx.chain.call(info.name, "minSubmissions"))
    await _submit(ctx, info, minimum, lambda answer, nodes: [(n, answer) for n in nodes])


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
        others = [f for f in feeds(ctx.chain) if f.name not in stalled | {info.name}]
        for attempt in range(4):  # a simulator round already in flight may still land: then jump again
            _, _, updated = await latest_answer(ctx.chain, info)
            age = await ctx.chain.chain_time() - updated
            if age > info.heartbeat:
                break
            if attempt == 3:
                raise ScenarioError(f"{info.name} kept being updated; is something else submitting to it?")
            await ctx.chain.increase_time(info.heartbeat - age + 60)
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
    """In a new round one oracle node submits 50% away from the others (the median stays sane).

    Every node submits, so the round is complete at once (monitors judge complete rounds).
    """

    name = "oracle-deviation"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        outlier = ctx.chain.role("oracle_nodes")[-1:]

        def answers(answer: int, nodes: list[str]) -> list[tuple[str, int]]:
            return [(n, answer) for n in nodes[:-1]] + [(nodes[-1], answer * 3 // 2)]

        round_id, answer = await _submit(ctx, info, 4, answers)
        return f"{info.name} round {round_id}: node {outlier[0]} submitted {answer * 3 // 2} vs {answer}."


class OracleJump(Scenario):
    """A round whose median moves three times the feed's deviation threshold in one step (every node)."""

    name = "oracle-jump"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        info = feed(ctx.chain, ctx.options.feed)
        minimum = int(await ctx.chain.call(info.name, "minSubmissions"))

        def jump(answer: int) -> int:
            return answer + answer * 3 * info.deviation_bps // 10_000

        round_id, answer = await _submit(ctx, info, minimum, lambda a, nodes: [(n, jump(a)) for n in nodes])
        return (
            f"{info.name} round {round_id} jumped from {answer} to {jump(answer)} "
            f"({3 * info.deviation_bps} bps; threshold {info.deviation_bps})."
        )
