"""The simulator, run for some fake-clock seconds on a deployed devnet; effects read back from the chain."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from fictra.clock import FakeClock
from fictra.devnet.activities import KINDS
from fictra.devnet.chainutil import DevChain
from fictra.devnet.feeds import feeds, latest_answer
from fictra.devnet.scenarios import ScenarioStore
from fictra.devnet.simulate import SimConfig, SimStats, Simulator
from fictra.errors import DevnetError


async def _rounds(chain: DevChain) -> dict[str, int]:
    return {f.name: int(await chain.call(f.name, "latestRound")) for f in feeds(chain)}


async def test_a_seeded_run_produces_every_kind_of_activity(chain: DevChain, store: ScenarioStore) -> None:
    store.put("oracle-stall", {"feeds": ["Feed:BRENT"]})
    before_rounds = await _rounds(chain)
    start = await chain.head()
    sim = Simulator(chain, config=SimConfig(rate=20, duration=10, seed=3), store=store, clock=FakeClock())
    stats = await sim.run()
    assert stats.failed == 0, stats.errors
    assert set(stats.kinds) == set(KINDS), stats.kinds

    after_rounds = await _rounds(chain)
    advanced = {name for name in after_rounds if after_rounds[name] > before_rounds[name]}
    assert advanced and "Feed:BRENT" not in advanced  # the stalled feed is left alone
    pt = chain.contract("PaymentToken").events
    traders = set(chain.role("traders"))
    transfers = await pt.Transfer.get_logs(from_block=start + 1)
    assert any(t["args"]["from"] in traders and t["args"]["to"] in traders for t in transfers)
    assert await chain.contract("Pool:PT-CASH").events.Swap.get_logs(from_block=start + 1)
    assert await chain.contract("FoundationToken").events.TokensIssued.get_logs(from_block=start + 1)
    reserve = chain.contract("Reserve").events
    moves = await reserve.Deposited.get_logs(from_block=start + 1)
    moves += await reserve.Withdrawn.get_logs(from_block=start + 1)
    assert moves
    assert await chain.call("Reserve", "collateralRatioBps") >= 10_000


async def test_the_seed_decides_the_activity(chain: DevChain) -> None:
    plans = []
    for seed in (5, 5, 6):
        sim = Simulator(chain, config=SimConfig(rate=20, duration=3, seed=seed), clock=FakeClock())
        plans.append((await sim.run()).planned)
    assert plans[0] == plans[1]
    assert plans[0] != plans[2]


async def test_token_activity_pauses_while_trading_is_halted(chain: DevChain) -> None:
    await chain.send(chain.role("guardian")[0], "EmergencyController", "haltTrading")
    sim = Simulator(
        chain, config=SimConfig(rate=50, duration=3, seed=1, kinds=("pt_transfer", "swap")), clock=FakeClock()
    )
    stats = await sim.run()
    assert stats.failed == 0 and stats.sent == 0 and stats.skipped > 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SimConfig(rate=0), "--rate is 0"),
        (SimConfig(duration=-1), "--duration is -1"),
        (SimConfig(kinds=("mining",)), "Unknown activity kind"),
    ],
)
def test_bad_config_is_a_clear_error(config: SimConfig, message: str) -> None:
    with pytest.raises(DevnetError, match=message):
        config.check()


async def test_feeds_are_updated_before_their_heartbeat_runs_out(chain: DevChain) -> None:
    heartbeat = min(f.heartbeat for f in feeds(chain))
    await chain.increase_time(heartbeat * 6 // 10)  # every feed is now past half its heartbeat
    sim = Simulator(
        chain, config=SimConfig(rate=20, duration=3, seed=2, kinds=("oracle",)), clock=FakeClock()
    )
    stats = await sim.run()
    assert stats.failed == 0, stats.errors
    now = await chain.chain_time()
    for info in feeds(chain):
        _, _, updated = await latest_answer(chain, info)
        assert now - updated < info.heartbeat // 2, info.name


async def test_each_round_stays_inside_the_deviation_threshold(chain: DevChain) -> None:
    start = await chain.head()
    sim = Simulator(
        chain, config=SimConfig(rate=20, duration=4, seed=9, kinds=("oracle",)), clock=FakeClock()
    )
    await sim.run()
    checked = 0
    for info in feeds(chain):
        answers = await chain.contract(info.name).events.AnswerUpdated.get_logs(from_block=start + 1)
        rounds = sorted({int(a["args"]["roundId"]) for a in answers})
        for round_id in rounds:
            previous = (await chain.call(info.name, "getRoundData", round_id - 1))[1]
            current = (await chain.call(info.name, "getRoundData", round_id))[1]
            assert abs(current - previous) * 10_000 < previous * info.deviation_bps, (info.name, round_id)
            checked += 1
    assert checked >= 5


async def test_a_halt_arriving_mid_run_is_not_counted_as_failures(
    chain: DevChain, store: ScenarioStore
) -> None:
    config = SimConfig(rate=50, duration=6, seed=8, kinds=("pt_transfer", "swap"))
    begun = asyncio.Event()

    def on_tick(stats: SimStats) -> None:
        if stats.sent:
            begun.set()

    sim = Simulator(chain, config=config, store=store, clock=FakeClock())
    running = asyncio.create_task(sim.run(on_tick=on_tick))
    async with asyncio.timeout(30):
        await begun.wait()  # halt once activity has begun
    await chain.send(chain.role("guardian")[0], "EmergencyController", "haltTrading")
    stats = await running
    assert stats.failed == 0, stats.errors
    assert stats.sent > 0 and stats.skipped > 0


async def test_rounds_have_enough_nodes_and_no_node_misses_two_in_a_row(chain: DevChain) -> None:
    start = await chain.head()
    sim = Simulator(
        chain, config=SimConfig(rate=40, duration=8, seed=11, kinds=("oracle",)), clock=FakeClock()
    )
    assert (await sim.run()).failed == 0
    nodes = chain.role("oracle_nodes")
    partial = 0
    for info in feeds(chain):
        logs = await chain.contract(info.name).events.SubmissionReceived.get_logs(from_block=start + 1)
        rounds: dict[int, set[str]] = {}
        for log in logs:
            rounds.setdefault(int(log["args"]["round"]), set()).add(log["args"]["oracle"])
        minimum = await chain.call(info.name, "minSubmissions")
        ordered = [rounds[r] for r in sorted(rounds)]
        assert all(len(r) >= minimum for r in ordered)
        for previous, current in itertools.pairwise(ordered):
            assert not (set(nodes) - previous) & (set(nodes) - current), info.name
        partial += sum(1 for r in ordered if len(r) < len(nodes))
    assert partial > 0  # nodes do sit rounds out now and then
