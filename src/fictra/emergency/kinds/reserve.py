"""The reserve family: reserve_rebalance — the trades of a rebalancing proposal executed on chain.

A proposal (``fictra reserve rebalance``, POST /api/v1/reserve/rebalances) carries exact trades computed from
the proof of reserve and the allocation policy, and the policy itself. Each sell is
``Reserve.withdraw(asset, units, manager)`` (the reserve manager sells it off chain); each buy is
``asset.approve(Reserve, units)`` then ``Reserve.deposit(asset, units)`` from the manager's inventory — all
signed with the reserve manager key (RESERVE_MANAGER_ROLE). Verified when every policy asset's weight in
the reserve, valued at its feed's latest price, is back within its band.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fictra.emergency.abi import encode_call
from fictra.emergency.dryrun import simulate
from fictra.emergency.kinds.base import ActionFacts, DryRunResult, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.onchain import OnChainKind
from fictra.emergency.kinds.spec import RECOVERY, Definition, Params, Signs

__all__ = ["RebalanceParams", "ReserveRebalance"]

E18 = 10**18
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ASSETS = ("Asset:CASH", "Asset:TBILL", "Asset:GOLD")


def _address(v: str) -> str:
    if not _ADDRESS.match(v):
        raise ValueError("must be an address: 0x and 40 hex digits")
    return v


class TradeParam(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    symbol: str = Field(min_length=1, max_length=16)
    token: str
    side: Literal["sell", "buy"]
    units: str = Field(pattern=r"^[1-9][0-9]{0,77}$", description="Smallest units of the asset.")
    usd: str = Field(pattern=r"^[0-9]{1,78}$", description="USD wei at the proposal's price.")

    _token = field_validator("token")(classmethod(lambda cls, v: _address(v)))


class PolicyParam(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    symbol: str = Field(min_length=1, max_length=16)
    token: str
    feed: str
    target: float = Field(ge=0, le=1)
    band: float = Field(gt=0, le=1)

    _addresses = field_validator("token", "feed")(classmethod(lambda cls, v: _address(v)))


class RebalanceParams(Params):
    trades: list[TradeParam] = Field(min_length=1, max_length=20)
    policy: list[PolicyParam] = Field(min_length=1, max_length=20)
    block: int = Field(ge=0, description="The block of the proof the trades were computed from.")


_SIGNS = (
    Signs("reserve", "Reserve", "Reserve", ("withdraw", "deposit")),
    *(Signs("reserve", name, "ReserveAsset", ("approve",)) for name in _ASSETS),
)


class ReserveRebalance(OnChainKind):
    definition = Definition(
        "reserve_rebalance",
        "Rebalance the reserve back to its allocation policy",
        "Reserve.withdraw for each sell and approve + Reserve.deposit for each buy, from the reserve manager "
        "key; verified when every policy asset's weight is back within its band.",
        RebalanceParams, ("operations_manager", "technical_lead", "system_architect"), RECOVERY, "reserve",
        "direct",
        example={
            "trades": [{"symbol": "GOLD", "token": "0x" + "1" * 40, "side": "sell", "units": str(E18),
                        "usd": str(2000 * E18)}],
            "policy": [{"symbol": "GOLD", "token": "0x" + "1" * 40, "feed": "0x" + "2" * 40, "target": 1.0,
                        "band": 0.05}],
            "block": 1,
        },
        signs=_SIGNS,
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        reserve = ctx.reader.address("Reserve")
        manager = ctx.signers.address("reserve")
        calls: list[PlannedCall] = []

        def add(label: str, to: str, data: str) -> None:
            calls.append(PlannedCall(len(calls), label, "reserve", to, data))

        trades = action.params["trades"]
        for t in [t for t in trades if t["side"] == "sell"]:
            units = int(t["units"])
            data = encode_call("Reserve", "withdraw", t["token"], units, manager)
            add(f"Reserve.withdraw({t['symbol']}, {units / E18:,.4f})", reserve, data)
        for t in [t for t in trades if t["side"] == "buy"]:
            units = int(t["units"])
            add(f"{t['symbol']}.approve(Reserve, {units / E18:,.4f})", t["token"],
                encode_call("ReserveAsset", "approve", reserve, units))  # fmt: skip
            add(f"Reserve.deposit({t['symbol']}, {units / E18:,.4f})", reserve,
                encode_call("Reserve", "deposit", t["token"], units))  # fmt: skip
        return calls

    async def dry_run(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> DryRunResult:
        """Sells and approvals are simulated as they are; a deposit depends on its approval (one block
        later), so it is checked by its preconditions instead: the manager holds the units, the asset is a
        reserve asset and the Reserve is not paused."""
        head = await ctx.reader.head()
        now = await self.observe(ctx, action)
        signers = ctx.signers.addresses(c.signer for c in plan)
        deposits = {c.step for c in plan if c.label.startswith("Reserve.deposit")}
        result = await simulate(
            ctx.reader, [c for c in plan if c.step not in deposits], signers=signers, now=now, head=head
        )
        manager, block = signers.get("reserve"), hex(head)
        buys = [t for t in action.params["trades"] if t["side"] == "buy"]
        (paused,) = await ctx.reader.read("Reserve", "paused", block=block)
        notes = []
        for step, t in zip(sorted(deposits), buys, strict=True):
            (held,) = await ctx.reader.read_at(t["token"], "ReserveAsset", "balanceOf", manager, block=block)
            (feed,) = await ctx.reader.read("Reserve", "feedOf", t["token"], block=block)
            problems = [
                *([f"the manager holds {int(held) / E18:,.4f}"] if int(held) < int(t["units"]) else []),
                *(["not a reserve asset"] if int(str(feed), 16) == 0 else []),
                *(["the Reserve is paused"] if paused else []),
            ]
            label = next(c.label for c in plan if c.step == step)
            result.steps.insert(-1, {"step": step, "label": label, "signer": "reserve", "ok": not problems,
                                     "note": "checked by preconditions (follows its approval)",
                                     **({"revert": "; ".join(problems)} if problems else {})})  # fmt: skip
            notes.append(f"{label}: " + ("; ".join(problems) if problems else "preconditions hold"))
        result.ok = result.ok and all(s.get("ok", True) for s in result.steps if "step" in s)
        result.summary += " " + " ".join(notes)
        return result

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        reserve = ctx.reader.address("Reserve")
        values: dict[str, int] = {}
        for p in action.params["policy"]:
            (balance,) = await ctx.reader.read_at(p["token"], "ReserveAsset", "balanceOf", reserve)
            (decimals,) = await ctx.reader.read_at(p["token"], "ReserveAsset", "decimals")
            _rid, answer, _s, _u, _a = await ctx.reader.read_at(p["feed"], "CommodityFeed", "latestRoundData")
            (feed_decimals,) = await ctx.reader.read_at(p["feed"], "CommodityFeed", "decimals")
            price = max(int(answer), 0)
            values[p["symbol"]] = (
                int(balance) * price * E18 // (10 ** int(decimals) * 10 ** int(feed_decimals))
            )
        total = sum(values.values())
        weights = {s: (v / total if total else 0.0) for s, v in values.items()}
        text = ", ".join(f"{s} {w * 100:.1f}%" for s, w in weights.items())
        return Observation(
            f"Reserve weights: {text}", {"weights": weights, "values": {k: str(v) for k, v in values.items()}}
        )

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        weights = seen.details["weights"]
        return all(abs(float(weights[p["symbol"]]) - float(p["target"])) <= float(p["band"])
                   for p in action.params["policy"])  # fmt: skip
