"""The kinds of background activity the simulator generates, each a small async step on :class:`World`.

Every step reads what it needs from the chain first (balances, reserves, allocations, collateral) so
that what it sends does not revert; random choices come from the simulator's seeded generator.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from fictra.devnet.chainutil import DevChain
from fictra.devnet.feeds import FeedInfo, feeds, latest_answer, submit_round
from fictra.devnet.scenarios.store import ScenarioStore
from fictra.errors import FictraError

MAX_UINT = 2**256 - 1
E18 = 10**18
KINDS = ("oracle", "pt_transfer", "swap", "ft_issue", "ft_transfer", "reserve")
WEIGHTS = (25, 30, 15, 8, 10, 12)
NODE_SKIP = 0.1  # chance that an oracle node sits a round out
# collateral the simulator keeps when withdrawing (bps of PT supply)
SAFE_RATIO_BPS = 12_000


class Skipped(Exception):
    """The step had nothing sensible to do (a stalled feed, a paused token, an empty balance)."""


@dataclass
class World:
    """What the simulator knows about the deployed system, read once at start-up."""

    chain: DevChain
    store: ScenarioStore | None
    feeds: list[FeedInfo]
    nodes: list[str]
    traders: list[str]
    sovereigns: dict[bytes, str]  # sovereignId -> holder
    issuer: str
    reserve_manager: str
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)  # feeds a round is being submitted for
    missed: dict[str, set[str]] = field(default_factory=dict)  # feed -> nodes that skipped its last round

    def lock(self, name: str) -> asyncio.Lock:
        return self.locks.setdefault(name, asyncio.Lock())

    @classmethod
    async def load(cls, chain: DevChain, store: ScenarioStore | None) -> World:
        ft = chain.contract("FoundationToken")
        logs = await ft.events.SovereignRegistered.get_logs(from_block=0)
        sovereigns = {bytes(log["args"]["sovereignId"]): str(log["args"]["holder"]) for log in logs}
        world = cls(
            chain=chain,
            store=store,
            feeds=feeds(chain),
            nodes=chain.role("oracle_nodes"),
            traders=chain.role("traders"),
            sovereigns=sovereigns,
            issuer=chain.role("issuer")[0],
            reserve_manager=chain.role("reserve_manager")[0],
        )
        for info in world.feeds:
            world.prices[info.name] = (await latest_answer(chain, info))[1]
        return world

    async def tokens_live(self) -> bool:
        """False while PT/FT cannot move (paused, trading halted): token activity is skipped then."""
        halted, pt_paused, ft_paused = await asyncio.gather(
            self.chain.call("EmergencyController", "tradingHalted"),
            self.chain.call("PaymentToken", "paused"),
            self.chain.call("FoundationToken", "paused"),
        )
        return not (halted or pt_paused or ft_paused)


async def _ok(chain: DevChain, sender: str, name: str, fn: str, *args: Any, gas: int = 300_000) -> None:
    await chain.send(sender, name, fn, *args, gas=gas)


async def oracle_round(world: World, rng: random.Random) -> int:
    """A new round on a random feed (or on the stalest one when it is past half its heartbeat): a random-walk
    step inside the deviation threshold, submitted by at least minSubmissions nodes (usually all; see
    :func:`_participants`). Returns the number of transactions."""
    stalled = world.store.stalled_feeds() if world.store else set()
    candidates = [f for f in world.feeds if f.name not in stalled]
    if not candidates:
        raise Skipped("every feed is stalled")
    info = rng.choice(candidates)
    overdue = await _overdue(world, candidates)
    # no await between choosing and claiming: concurrent rounds pick different overdue feeds
    unclaimed = [f for f in overdue if f.name not in world.claimed]
    if unclaimed:
        info = unclaimed[0]
    world.claimed.add(info.name)
    try:
        return await _round(world, info, rng)
    finally:
        world.claimed.discard(info.name)


async def _round(world: World, info: FeedInfo, rng: random.Random) -> int:
    step = rng.uniform(-1.0, 1.0) * info.deviation_bps / 10_000 * 0.5
    noise = info.deviation_bps / 10_000 / 20
    async with world.lock(info.name):
        price = world.prices[info.name]
        target = max(1, round(price * (1 + step)))
        minimum = int(await world.chain.call(info.name, "minSubmissions"))
        nodes = _participants(world, info, rng, minimum)
        count = len(nodes)
        answers = [(n, max(1, round(target * (1 + rng.uniform(-noise, noise))))) for n in nodes]
        for attempt in range(3):  # someone else (a scenario) may submit to the same round: use the next one
            try:
                await submit_round(world.chain, info, answers)
                break
            except FictraError:
                if attempt == 2:
                    raise
        world.prices[info.name] = (await latest_answer(world.chain, info))[1]
    return count


def _participants(world: World, info: FeedInfo, rng: random.Random, minimum: int) -> list[str]:
    """The nodes answering this round: each skips with probability NODE_SKIP, but never two rounds of a
    feed in a row (a healthy network), and at least ``minimum`` answer. Returned in random order."""
    missed_last = world.missed.get(info.name, set())
    nodes = [n for n in world.nodes if n in missed_last or rng.random() >= NODE_SKIP]
    for node in world.nodes:
        if len(nodes) >= minimum:
            break
        if node not in nodes:
            nodes.append(node)
    world.missed[info.name] = set(world.nodes) - set(nodes)
    rng.shuffle(nodes)
    return nodes


async def _overdue(world: World, candidates: list[FeedInfo]) -> list[FeedInfo]:
    """Feeds whose last update is older than half their heartbeat, the most overdue first."""
    now = await world.chain.chain_time()
    ages = [((now - (await latest_answer(world.chain, f))[2]) / f.heartbeat, f) for f in candidates]
    return [f for ratio, f in sorted(ages, key=lambda pair: -pair[0]) if ratio > 0.5]


async def pt_transfer(world: World, rng: random.Random) -> int:
    """A trader settles with another trader in PT (0.1-2% of its balance)."""
    sender, receiver = rng.sample(world.traders, 2)
    share = rng.uniform(0.001, 0.02)
    balance = int(await world.chain.call("PaymentToken", "balanceOf", sender))
    amount = int(balance * share)
    if amount == 0:
        raise Skipped(f"trader {sender} holds no PT")
    await _ok(world.chain, sender, "PaymentToken", "transfer", receiver, amount)
    return 1


async def swap(world: World, rng: random.Random) -> int:
    """A trader swaps on the PT/CASH pool: transfer the input token in, then pair.swap (Uniswap V2 math)."""
    chain = world.chain
    trader = rng.choice(world.traders)
    coin = rng.random()
    share = rng.uniform(0.0005, 0.005)
    pair = chain.contract("Pool:PT-CASH")
    async with world.lock("pool"):
        token0 = to_checksum_address(await pair.functions.token0().call())
        pt = chain.contract("PaymentToken").address
        r0, r1, _ = await pair.functions.getReserves().call()
        price = (r1 / r0 if token0 == pt else r0 / r1) if r0 and r1 else 1.0  # CASH per PT
        # arbitrage against redemption at 1.0 pulls the price back to the peg: below it traders buy PT
        sell_pt = coin < min(0.9, max(0.1, 0.5 + 60 * (price - 1.0)))
        token_in = pt if sell_pt else chain.contract("Asset:CASH").address
        name_in = "PaymentToken" if sell_pt else "Asset:CASH"
        r0, r1, _ = await pair.functions.getReserves().call()
        reserve_in, reserve_out = (r0, r1) if token_in == token0 else (r1, r0)
        amount = int(reserve_in * share)
        if amount == 0 or int(await chain.call(name_in, "balanceOf", trader)) < amount:
            raise Skipped(f"trader {trader} cannot pay {amount} into the pool")
        await _ok(chain, trader, name_in, "transfer", pair.address, amount)
        received = int(await chain.call(name_in, "balanceOf", pair.address)) - reserve_in
        out = received * 997 * reserve_out // (reserve_in * 1000 + received * 997) - 1
        if out <= 0:
            raise Skipped("swap output rounds to zero")
        outs = (0, out) if token_in == token0 else (out, 0)
        await _ok(chain, trader, "Pool:PT-CASH", "swap", outs[0], outs[1], trader, b"")
    return 2


async def ft_issue(world: World, rng: random.Random) -> int:
    """The issuer issues FT to a sovereign, within its remaining allocation (at most 1% of the cap)."""
    if not world.sovereigns:
        raise Skipped("no sovereign is registered")
    sovereign_id = rng.choice(sorted(world.sovereigns))
    share = rng.uniform(0.001, 0.01)
    async with world.lock("ft_issue"):
        _holder, cap, issued = await world.chain.call("FoundationToken", "allocation", sovereign_id)
        amount = min(int(cap * share), int(cap) - int(issued))
        if amount <= 0:
            raise Skipped("allocation exhausted")
        await _ok(world.chain, world.issuer, "FoundationToken", "issue", sovereign_id, amount)
    return 1


async def ft_transfer(world: World, rng: random.Random) -> int:
    """An authorized transfer of FT between two sovereign holders (1-5% of the sender's balance)."""
    holders = sorted(set(world.sovereigns.values()))
    if len(holders) < 2:
        raise Skipped("fewer than two sovereigns")
    sender, receiver = rng.sample(holders, 2)
    share = rng.uniform(0.01, 0.05)
    amount = int(int(await world.chain.call("FoundationToken", "balanceOf", sender)) * share)
    if amount == 0:
        raise Skipped(f"sovereign {sender} holds no FT yet")
    await _ok(world.chain, sender, "FoundationToken", "transfer", receiver, amount)
    return 1


async def reserve_move(world: World, rng: random.Random) -> int:
    """A reserve deposit or withdrawal by the reserve manager; withdrawals keep >= 120% collateral."""
    chain = world.chain
    deposit = rng.random() < 0.55
    share = rng.uniform(0.001, 0.01)
    async with world.lock("reserve"):
        assets = [to_checksum_address(a) for a in await chain.call("Reserve", "assets")]
        if not assets:
            raise Skipped("the reserve holds no assets")
        asset = assets[rng.randrange(len(assets))]
        token = chain.at("ReserveAsset", asset)
        reserve = chain.contract("Reserve").address
        held = int(await token.functions.balanceOf(reserve).call())
        amount = max(int(held * share), E18)
        if deposit:
            return await _deposit(world, asset, amount)
        value = await _value(world, asset, amount)
        supply = int(await chain.call("PaymentToken", "totalSupply"))
        reserve_value = int(await chain.call("Reserve", "reserveValue"))
        if amount > held or (reserve_value - value) * 10_000 < supply * SAFE_RATIO_BPS:
            return await _deposit(world, asset, amount)
        await _ok(chain, world.reserve_manager, "Reserve", "withdraw", asset, amount, world.reserve_manager)
        return 1


async def _value(world: World, asset: str, amount: int) -> int:
    feed_address = await world.chain.call("Reserve", "feedOf", asset)
    feed = world.chain.at("CommodityFeed", feed_address)
    _, answer, _, _, _ = await feed.functions.latestRoundData().call()
    decimals = int(await feed.functions.decimals().call())
    return int(amount * int(answer) // 10**decimals)


async def _deposit(world: World, asset: str, amount: int) -> int:
    chain = world.chain
    token = chain.at("ReserveAsset", asset)
    manager = world.reserve_manager
    reserve = chain.contract("Reserve").address
    sent = 1
    if int(await token.functions.balanceOf(manager).call()) < amount:
        owner = to_checksum_address(await token.functions.owner().call())
        if not await chain.is_unlocked(owner):  # stands for assets arriving from off-chain custody
            await chain.impersonate(owner)
        await _raw_ok(chain, owner, token.address, token.encode_abi("mint", args=[manager, amount * 100]))
        sent += 1
    if int(await token.functions.allowance(manager, reserve).call()) < amount:
        await _raw_ok(chain, manager, token.address, token.encode_abi("approve", args=[reserve, MAX_UINT]))
        sent += 1
    await _ok(chain, manager, "Reserve", "deposit", asset, amount)
    return sent


async def _raw_ok(chain: DevChain, sender: str, to: str, data: str) -> None:
    from fictra.errors import ContractError

    receipt = await chain.receipt(await chain.send_raw(sender, to, data, gas=200_000))
    if receipt["status"] != 1:
        raise ContractError(f"Transaction from {sender} to {to} reverted.")


STEPS = {
    "oracle": oracle_round,
    "pt_transfer": pt_transfer,
    "swap": swap,
    "ft_issue": ft_issue,
    "ft_transfer": ft_transfer,
    "reserve": reserve_move,
}
TOKEN_KINDS = {"pt_transfer", "swap", "ft_issue", "ft_transfer"}
