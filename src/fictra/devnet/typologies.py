"""A typology generator with AMLSim's parameters (type, accounts, amounts, period): labelled PT transfers
mixed into normal simulated traffic, for the compliance tests and the benchmark.

:func:`generate` returns the transfers in block order (``Transfer`` values, as the compliance monitor reads
them from blocks) and the labels: typology -> the subject addresses the detector should name. Normal traffic
is random payments among a population of accounts with log-normal amounts capped below every threshold;
each typology instance uses fresh addresses (or, where the pattern needs known counterparties, accounts of
the population seen earlier) within its period. :func:`blocks_of` packs the stream into chain ``Block``
values with PaymentToken Transfer logs, so the whole monitor path (log decoding included) can be driven.

The stream is fed to the detector directly; writing it to a devnet is not implemented (see
docs/compliance.md).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from fictra.chain.types import Block, Log, Tx
from fictra.compliance.transfers import TRANSFER_TOPIC, ZERO, Transfer

__all__ = ["DEFAULT_SPECS", "Generated", "TypologySpec", "blocks_of", "generate"]

E18 = 10**18


@dataclass(frozen=True)
class TypologySpec:
    """AMLSim's parameters: the typology, how many accounts take part, amounts (whole tokens), the period
    (seconds) it is spread over, and how many instances to plant."""

    type: str
    accounts: int
    amount: tuple[float, float]
    period: int
    count: int = 10


DEFAULT_SPECS: tuple[TypologySpec, ...] = (
    TypologySpec("large", 2, (150_000, 400_000), 10),
    TypologySpec("structuring", 2, (9_100, 9_950), 240),
    TypologySpec("fan_in", 7, (200, 2_000), 240),
    TypologySpec("fan_out", 7, (200, 2_000), 240),
    TypologySpec("cycle", 4, (1_000, 3_000), 240),
    TypologySpec("pass_through", 3, (20_000, 60_000), 120),
    TypologySpec("scatter_gather", 5, (500, 2_500), 300),
    TypologySpec("gather_scatter", 7, (500, 2_500), 300),
    TypologySpec("dormant_active", 3, (12_000, 50_000), 60),
    TypologySpec("fresh_counterparties", 5, (100, 1_500), 240),
)


@dataclass
class Generated:
    transfers: list[Transfer]
    labels: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    blocks: int = 0
    block_time: int = 2


class _Stream:
    def __init__(self, seed: int, start: int, block_time: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (simulated traffic, not cryptography)
        self.seed = seed
        self.start = start
        self.block_time = block_time
        self.by_block: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
        self.fresh_n = 0

    def new(self) -> str:
        self.fresh_n += 1
        return "0x" + hashlib.sha256(f"{self.seed}:fresh:{self.fresh_n}".encode()).hexdigest()[:40]

    def pay(self, at_block: int, sender: str, recipient: str, tokens: float) -> None:
        self.by_block[at_block].append((sender, recipient, int(tokens * E18)))

    def amount(self, spec: TypologySpec) -> float:
        return self.rng.uniform(*spec.amount)


def _population(seed: int, n: int) -> list[str]:
    return ["0x" + hashlib.sha256(f"{seed}:pop:{i}".encode()).hexdigest()[:40] for i in range(n)]


def _plant(st: _Stream, spec: TypologySpec, b0: int, seen: list[str], labels: dict[str, set[str]]) -> int:
    """One instance of ``spec`` from block ``b0``; returns the last block it uses."""
    rng, span = st.rng, max(1, spec.period // st.block_time)
    step = max(1, span // max(1, spec.accounts))
    t = spec.type
    if t == "large":
        a, b = st.new(), st.new()
        st.pay(b0, a, b, st.amount(spec))
        labels[t].add(a)
        return b0
    if t == "structuring":
        a, r = st.new(), st.new()
        for i in range(max(3, spec.accounts + 1)):
            st.pay(b0 + i * step, a, r, st.amount(spec))
        labels[t].add(a)
        return b0 + span
    if t in ("fan_in", "fan_out"):
        hub, others = st.new(), rng.sample(seen, spec.accounts - 1)
        for i, o in enumerate(others):
            st.pay(b0 + i * step, *((o, hub) if t == "fan_in" else (hub, o)), st.amount(spec))
        labels[t].add(hub)
        return b0 + span
    if t == "cycle":
        members = [st.new() for _ in range(max(3, spec.accounts))]
        for i, m in enumerate(members):
            st.pay(b0 + i * step, m, members[(i + 1) % len(members)], st.amount(spec))
        labels[t].add(min(members))
        return b0 + span
    if t == "pass_through":
        a, p, q = st.new(), st.new(), st.new()
        value = st.amount(spec)
        st.pay(b0, a, p, value)
        st.pay(b0 + step, p, q, value * rng.uniform(0.92, 0.99))
        labels[t].add(p)
        return b0 + step
    if t == "scatter_gather":
        source, sink = st.new(), st.new()
        mids = [st.new() for _ in range(max(3, spec.accounts - 2))]
        for i, m in enumerate(mids):
            value = st.amount(spec)
            st.pay(b0 + i, source, m, value)
            st.pay(b0 + span // 2 + i, m, sink, value * 0.97)
        labels[t].add(sink)
        return b0 + span
    if t == "gather_scatter":
        hub, n = st.new(), max(3, (spec.accounts - 1) // 2)
        both = rng.sample(seen, 2 * n)  # distinct senders and recipients: no round trip through the hub
        ins, outs = both[:n], both[n:]
        for i, o in enumerate(ins):
            st.pay(b0 + i, o, hub, st.amount(spec))
        for i, o in enumerate(outs):
            st.pay(b0 + span // 2 + i, hub, o, st.amount(spec) * 0.9)
        labels[t].add(hub)
        return b0 + span
    if t == "dormant_active":
        a, c = st.new(), st.new()
        st.pay(b0, rng.choice(seen), a, 50)
        wake = b0 + spec.period // st.block_time
        st.pay(wake, a, c, st.amount(spec))
        labels[t].add(a)
        return wake
    if t == "fresh_counterparties":
        s = rng.choice(seen)
        for i in range(max(4, spec.accounts - 1)):
            st.pay(b0 + i * step, s, st.new(), st.amount(spec))
        labels[t].add(s)
        return b0 + span
    raise ValueError(f"unknown typology '{t}'")


def generate(
    *,
    seed: int = 7,
    blocks: int = 2_000,
    block_time: int = 2,
    normal_per_block: int = 2,
    population: int = 5_000,
    specs: tuple[TypologySpec, ...] = DEFAULT_SPECS,
    dormant_after: int = 1_800,
    start_block: int = 1,
    start_time: int = 1_800_000_000,
) -> Generated:
    """A labelled stream over ``blocks`` blocks. ``dormant_after`` (seconds) sets the silence of the
    dormant instances (they wake ``dormant_after`` + their period later)."""
    st = _Stream(seed, start_block, block_time)
    rng = st.rng
    pop = _population(seed, population)
    seen: list[str] = []
    seen_set: set[str] = set()
    mu, sigma, cap = math.log(100), 0.8, 3_000.0
    warm = start_block + min(100, blocks // 10)
    per_block = -(-population // max(1, warm - start_block))
    for i, account in enumerate(pop):  # the participants are issued PT first (mints): known, not fresh
        st.pay(start_block + i // per_block, ZERO, account, 1_000)
    for b in range(start_block, start_block + blocks):
        for _ in range(normal_per_block):
            a, c = rng.sample(pop, 2)
            st.pay(b, a, c, min(cap, rng.lognormvariate(mu, sigma)))
            for x in (a, c):
                if x not in seen_set:
                    seen_set.add(x)
                    seen.append(x)
    labels: dict[str, set[str]] = defaultdict(set)
    last = start_block + blocks - 1
    for spec in specs:
        period = spec.period + (dormant_after if spec.type == "dormant_active" else 0)
        spec_run = TypologySpec(spec.type, spec.accounts, spec.amount, period, spec.count)
        for _ in range(spec.count):
            latest = last - period // block_time - 1
            if latest <= warm:
                break
            b0 = rng.randint(warm, latest)
            known = [x for x in seen[: max(10, len(seen) * (b0 - start_block) // max(1, blocks))]]
            _plant(st, spec_run, b0, known, labels)
    transfers: list[Transfer] = []
    for b in sorted(st.by_block):
        bhash = "0x" + hashlib.sha256(f"{seed}:block:{b}".encode()).hexdigest()
        for i, (a, c, value) in enumerate(st.by_block[b]):
            txh = "0x" + hashlib.sha256(f"{seed}:tx:{b}:{i}".encode()).hexdigest()
            transfers.append(
                Transfer(
                    "PaymentToken", a, c, value, txh, b, bhash, start_time + (b - start_block) * block_time, i
                )
            )
    return Generated(transfers=transfers, labels=labels, blocks=blocks, block_time=block_time)


def blocks_of(gen: Generated, *, token_address: str) -> Iterator[Block]:
    """The stream as chain blocks: one transaction with one PaymentToken Transfer log per transfer."""
    by_block: dict[int, list[Transfer]] = defaultdict(list)
    for t in gen.transfers:
        by_block[t.block].append(t)
    for number in sorted(by_block):
        items = by_block[number]
        txs = []
        for i, t in enumerate(items):
            log = Log(
                address=token_address,
                topics=(TRANSFER_TOPIC, "0x" + "00" * 12 + t.sender[2:], "0x" + "00" * 12 + t.recipient[2:]),
                data="0x" + f"{t.value:064x}",
                log_index=i,
                tx_hash=t.tx_hash,
                tx_index=i,
                block_number=number,
                block_hash=t.block_hash,
            )
            txs.append(
                Tx(
                    hash=t.tx_hash,
                    index=i,
                    sender=t.sender,
                    to=token_address,
                    value=0,
                    input="0xa9059cbb",
                    gas=60_000,
                    gas_price=1,
                    max_fee_per_gas=None,
                    max_priority_fee_per_gas=None,
                    nonce=0,
                    status=1,
                    gas_used=50_000,
                    effective_gas_price=1,
                    contract_address=None,
                    logs=(log,),
                )
            )
        yield Block(
            number=number,
            hash=items[0].block_hash,
            parent_hash="0x" + "00" * 32,
            timestamp=items[0].timestamp,
            gas_used=0,
            gas_limit=30_000_000,
            base_fee_per_gas=1,
            miner="0x" + "00" * 20,
            txs=tuple(txs),
        )
