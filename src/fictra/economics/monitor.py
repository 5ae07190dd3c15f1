"""The PT market monitor (block-driven): at the last block of every batch it reads the PT/CASH pair's
reserves and cumulative price, and raises, each clearing when normal again:

- ``peg_deviation``: P1 when the spot (or TWAP) price is ``peg.p1`` off 1.0, P2 when the TWAP is ``peg.p2``
  off (a sustained depeg rather than one trade);
- ``volatility``: the EWMA (λ = 0.94) volatility of the log pool price, one step per processed batch;
- ``depth``: selling 1% of the PT reserve moves the price more than ``depth_1pct``.

The EWMA variance, the last price and the TWAP observations are kept in the monitor's baseline state in
the follower's transaction (a restart resumes them); a reorg forgets the conditions above the ancestor
and restarts the TWAP window.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import Clock
from fictra.economics.config import Levels, PoolMonitorConfig
from fictra.economics.pool import PoolState, twap
from fictra.economics.volatility import ewma_update
from fictra.monitors.base import MonitorOutput
from fictra.monitors.baseline_store import load_baselines, save_baselines
from fictra.monitors.common import decode_word, selector
from fictra.monitors.state import Conditions

__all__ = ["MarketMonitor", "level_of", "market_findings"]

GET_RESERVES = selector("getReserves()")
TOKEN0 = selector("token0()")
PRICE0, PRICE1 = selector("price0CumulativeLast()"), selector("price1CumulativeLast()")


def level_of(value: float, levels: Levels) -> Severity | None:
    if value >= levels.p1:
        return Severity.P1
    if value >= levels.p2:
        return Severity.P2
    return None


def market_findings(
    state: PoolState, volatility: float | None, twap_price: float | None, config: PoolMonitorConfig, *,
    network: str, at: BlockRef,
) -> tuple[list[Finding], list[dict[str, str]]]:  # fmt: skip
    """The conditions that hold for one observation, and the labels of those that do not."""
    held: list[Finding] = []
    released: list[dict[str, str]] = []
    twap_text = f", TWAP {twap_price:.4f}" if twap_price is not None else ""
    checks: list[tuple[str, Severity | None, str, dict[str, Any]]] = []
    deviation = abs(state.price - 1.0)
    sustained = abs(twap_price - 1.0) if twap_price is not None else deviation
    # P1 on the spot price (a crash shows at once); P2 on the TWAP (a sustained depeg, not one trade)
    peg = Severity.P1 if max(deviation, sustained) >= config.peg.p1 else level_of(sustained, config.peg)
    checks.append((
        "peg_deviation", peg,
        f"PT trades at {state.price:.4f} CASH on the pool ({deviation * 100:.2f}% off the peg{twap_text})",
        {"price": state.price, "deviation": deviation, "twap": twap_price},
    ))  # fmt: skip
    vol = volatility or 0.0
    checks.append((
        "volatility", level_of(vol, config.volatility),
        f"PT pool price volatility (EWMA λ={config.lam}) is {vol * 100:.2f}% per step",
        {"volatility": vol, "price": state.price},
    ))  # fmt: skip
    impact = state.depth(0.01)
    checks.append((
        "depth", Severity.P2 if impact > config.depth_1pct else None,
        f"Selling 1% of the pool's PT moves its price {impact * 100:.2f}% (limit "
        f"{config.depth_1pct * 100:.1f}%)",
        {"impact_1pct": impact, "impact_5pct": state.depth(0.05), "reserve_pt": str(state.reserve_pt)},
    ))  # fmt: skip
    for condition, severity, summary, evidence in checks:
        labels = {"contract": config.pool, "condition": condition}
        if severity is None:
            released.append(labels)
        else:
            held.append(
                Finding(monitor=config.monitor, severity=severity, summary=summary, labels={**labels,
                        "severity": severity.value}, network=network, block=at, evidence=evidence)
            )  # fmt: skip
    return held, released


class MarketMonitor:
    """A :class:`~fictra.monitors.base.Monitor`."""

    def __init__(
        self, *, config: PoolMonitorConfig, manifest: Manifest, pool: RpcPool, network: str, clock: Clock
    ) -> None:
        self.config = config
        self.name = config.monitor
        self.pool = pool
        self.network = network
        self.clock = clock
        self.pair = manifest.address(config.pool)
        self.token = manifest.address(config.token).lower()
        self.pt_is_token0: bool | None = None
        self.conditions = Conditions(monitor=config.monitor, network=network)
        self.loaded = False
        self.variance: float | None = None
        self.last_price: float | None = None
        self.observations: deque[tuple[int, int]] = deque(maxlen=config.twap_window)
        self.latest: dict[str, Any] = {}

    async def _load(self, session: AsyncSession) -> None:
        if self.loaded:
            return
        self.loaded = True
        state = (await load_baselines(session, monitor=self.name)).get("pool", {})
        self.variance = state.get("variance")
        self.last_price = state.get("last_price")
        for t, c in state.get("observations", []):
            self.observations.append((int(t), int(c)))
        self.latest = dict(state.get("latest", {}))

    async def read(self, block: int, timestamp: int) -> PoolState:
        tag = hex(block)
        if self.pt_is_token0 is None:
            raw = await self.pool.call("eth_call", [{"to": self.pair, "data": TOKEN0}, tag])
            self.pt_is_token0 = str(decode_word(raw, "address", what="token0")).lower() == self.token
        calls = [("eth_call", [{"to": self.pair, "data": d}, tag]) for d in (GET_RESERVES, PRICE0, PRICE1)]
        reserves, p0, p1 = await self.pool.batch(calls)
        r0, r1, ts = decode_word(reserves, "(uint112,uint112,uint32)", what="getReserves")
        c0 = int(decode_word(p0, "uint256", what="price0CumulativeLast"))
        c1 = int(decode_word(p1, "uint256", what="price1CumulativeLast"))
        # priceNCumulative is the price of token N in the other token
        if self.pt_is_token0:
            return PoolState(block, timestamp, int(r0), int(r1), c0, int(ts))
        return PoolState(block, timestamp, int(r1), int(r0), c1, int(ts))

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        if not batch.blocks:
            return out
        await self.conditions.resume(session)
        await self._load(session)
        last = batch.blocks[-1]
        state = await self.read(last.number, last.timestamp)
        price = state.price
        if price <= 0:
            return out
        if self.last_price is not None:
            self.variance = ewma_update(self.variance, self.last_price, price, lam=self.config.lam)
        self.last_price = price
        self.observations.append((last.timestamp, state.cumulative_at(last.timestamp)))
        first_t, first_c = self.observations[0]
        twap_price = twap(self.observations[-1][1], first_c, last.timestamp, first_t)
        volatility = self.variance**0.5 if self.variance is not None else None
        at = BlockRef(last.number, last.hash)
        held, released = market_findings(
            state, volatility, twap_price, self.config, network=self.network, at=at
        )
        for finding in held:
            # one condition per measure: a severity change re-raises it under its new level
            other = {**finding.labels, "severity": "P1" if finding.severity is Severity.P2 else "P2"}
            self.conditions.release(other, out, block=at)
            self.conditions.hold(finding, out)
        for labels in released:
            for sev in ("P1", "P2"):
                self.conditions.release({**labels, "severity": sev}, out, block=at)
        self.latest = {
            "block": last.number, "price": price, "twap": twap_price, "volatility": volatility,
            "reserve_pt": str(state.reserve_pt), "reserve_cash": str(state.reserve_cash),
            "impact_1pct": state.depth(0.01), "impact_5pct": state.depth(0.05),
        }  # fmt: skip
        await save_baselines(
            session, monitor=self.name, clock=self.clock,
            states={"pool": {"variance": self.variance, "last_price": self.last_price,
                             "observations": [list(o) for o in self.observations], "latest": self.latest}},
        )  # fmt: skip
        return out

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        self.conditions.forget_after(reorg.common_ancestor)
        while (
            self.observations
            and self.latest.get("block", 0) > reorg.common_ancestor
            and len(self.observations) > 1
        ):
            self.observations.pop()
            break
        return MonitorOutput()
