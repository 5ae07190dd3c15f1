"""The EmergencyController family: pause_all, halt_trading, emergency_shutdown — direct calls from the
guardian key, verified by reading ``paused()`` on every registered target and ``tradingHalted()``."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address

from fictra.emergency.abi import encode_call
from fictra.emergency.kinds.base import ActionFacts, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.onchain import OnChainKind
from fictra.emergency.kinds.spec import FAST, RESPONDERS, Definition, NoParams, Signs
from fictra.emergency.reader import ChainReader

__all__ = ["EmergencyShutdown", "HaltTrading", "PauseAll", "paused_targets", "trading_halted"]


def _guardian(signs: tuple[str, ...]) -> tuple[Signs, ...]:
    return (Signs("guardian", "EmergencyController", "EmergencyController", signs),)


def _call(reader: ChainReader, step: int, fn: str) -> PlannedCall:
    ec = reader.address("EmergencyController")
    return PlannedCall(
        step, f"EmergencyController.{fn}()", "guardian", ec, encode_call("EmergencyController", fn)
    )


async def paused_targets(reader: ChainReader) -> tuple[int, int, dict[str, bool]]:
    """(paused, total, {name: paused}) over ``EmergencyController.pausables()``."""
    (targets,) = await reader.read("EmergencyController", "pausables")
    states: dict[str, bool] = {}
    for target in targets:
        name = reader.name_of(target) or to_checksum_address(target)
        artifact = reader.artifact(name) if name in reader.manifest.contracts else "PaymentToken"
        (paused,) = await reader.read_at(to_checksum_address(target), artifact, "paused")
        states[name] = bool(paused)
    return sum(states.values()), len(states), states


async def trading_halted(reader: ChainReader) -> bool:
    (halted,) = await reader.read("EmergencyController", "tradingHalted")
    return bool(halted)


async def observe_paused(reader: ChainReader) -> Observation:
    paused, total, states = await paused_targets(reader)
    details: dict[str, Any] = {"paused": states, "paused_count": paused, "targets": total}
    return Observation(f"{paused} of {total} targets paused", details)


async def observe_trading(reader: ChainReader) -> Observation:
    halted = await trading_halted(reader)
    return Observation(f"trading {'halted' if halted else 'not halted'}", {"trading_halted": halted})


class PauseAll(OnChainKind):
    definition = Definition(
        "pause_all",
        "Circuit breaker: pause every contract",
        "EmergencyController.pauseAll() from the guardian key; verified when every registered "
        "target reports paused().",
        NoParams, RESPONDERS, FAST, "guardian", "direct", containment=True,
        signs=_guardian(("pauseAll",)), causes=("paused",),
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return [_call(ctx.reader, 0, "pauseAll")]

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        return await observe_paused(ctx.reader)

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["paused_count"] == seen.details["targets"])


class HaltTrading(OnChainKind):
    definition = Definition(
        "halt_trading",
        "Halt PaymentToken trading",
        "EmergencyController.haltTrading() from the guardian key; verified when tradingHalted().",
        NoParams, RESPONDERS, FAST, "guardian", "direct", containment=True,
        signs=_guardian(("haltTrading",)), causes=("trading_halted",),
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return [_call(ctx.reader, 0, "haltTrading")]

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        return await observe_trading(ctx.reader)

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["trading_halted"])


class EmergencyShutdown(OnChainKind):
    definition = Definition(
        "emergency_shutdown",
        "Emergency shutdown: pause all and halt trading",
        "pauseAll() then haltTrading() from the guardian key; verified when every target is paused "
        "and trading is halted.",
        NoParams, RESPONDERS, FAST, "guardian", "direct", containment=True,
        signs=_guardian(("pauseAll", "haltTrading")), causes=("paused", "trading_halted"),
    )  # fmt: skip

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return [_call(ctx.reader, 0, "pauseAll"), _call(ctx.reader, 1, "haltTrading")]

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        paused = await observe_paused(ctx.reader)
        trading = await observe_trading(ctx.reader)
        return Observation(f"{paused.text}; {trading.text}", {**paused.details, **trading.details})

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        d = seen.details
        return bool(d["paused_count"] == d["targets"] and d["trading_halted"])
