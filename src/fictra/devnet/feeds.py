"""Commodity feeds on the devnet: their manifest metadata and submitting a round from oracle nodes."""

from __future__ import annotations

from dataclasses import dataclass

from fictra.devnet.chainutil import DevChain
from fictra.errors import DevnetError

FEED_PREFIX = "Feed:"


@dataclass(frozen=True)
class FeedInfo:
    name: str  # manifest name, e.g. "Feed:BRENT"
    symbol: str
    heartbeat: int
    deviation_bps: int
    decimals: int
    initial_price: float


def _num(meta: dict[str, object], key: str, default: float) -> float:
    value = meta.get(key, default)
    return float(value) if isinstance(value, int | float | str) else default


def feeds(chain: DevChain) -> list[FeedInfo]:
    out = []
    for name, entry in sorted(chain.manifest.contracts.items()):
        if not name.startswith(FEED_PREFIX):
            continue
        meta = entry.meta
        out.append(
            FeedInfo(
                name=name,
                symbol=str(meta.get("symbol", name.removeprefix(FEED_PREFIX))),
                heartbeat=int(_num(meta, "heartbeat", 3600)),
                deviation_bps=int(_num(meta, "deviation_bps", 200)),
                decimals=int(_num(meta, "decimals", 8)),
                initial_price=_num(meta, "initial_price", 100.0),
            )
        )
    return out


def feed(chain: DevChain, symbol_or_name: str) -> FeedInfo:
    wanted = (
        symbol_or_name if symbol_or_name.startswith(FEED_PREFIX) else FEED_PREFIX + symbol_or_name.upper()
    )
    for info in feeds(chain):
        if info.name == wanted:
            return info
    known = ", ".join(f.symbol for f in feeds(chain))
    raise DevnetError(f"Unknown feed '{symbol_or_name}'. Known feeds: {known}.")


async def latest_answer(chain: DevChain, info: FeedInfo) -> tuple[int, int, int]:
    """(roundId, answer, updatedAt) of the feed's latest round."""
    round_id, answer, _started, updated, _in_round = await chain.call(info.name, "latestRoundData")
    return int(round_id), int(answer), int(updated)


async def submit_round(chain: DevChain, info: FeedInfo, answers: list[tuple[str, int]]) -> int:
    """Open the next round with ``answers`` [(node address, answer)...]; returns the round id.

    The first submission opens the round and is awaited, the others follow concurrently.
    """
    import asyncio

    if not answers:
        raise DevnetError("A round needs at least one submission.")
    next_round = int(await chain.call(info.name, "latestRound")) + 1
    (first_node, first_answer), rest = answers[0], answers[1:]
    await chain.send(first_node, info.name, "submit", next_round, first_answer, gas=300_000)
    hashes = [
        await chain.send(node, info.name, "submit", next_round, answer, gas=300_000, wait=False)
        for node, answer in rest
    ]
    receipts = await asyncio.gather(*(chain.receipt(str(h)) for h in hashes))
    failed = [r["transactionHash"].hex() for r in receipts if r["status"] != 1]
    if failed:
        raise DevnetError(f"{len(failed)} oracle submission(s) to {info.name} round {next_round} reverted.")
    return next_round
