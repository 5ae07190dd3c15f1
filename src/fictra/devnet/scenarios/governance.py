"""Scenarios around admin powers: role grants, the emergency controller, the fee."""

from __future__ import annotations

from fictra.devnet.scenarios.base import Scenario, ScenarioContext, as_timelock, role_id, via_timelock
from fictra.errors import ScenarioError

ROLE_TARGET = "PaymentToken"
ROLE_NAME = "DEFAULT_ADMIN_ROLE"


class UnauthorizedRoleGrant(Scenario):
    """PaymentToken DEFAULT_ADMIN_ROLE granted to the attacker by the impersonated Timelock; undo revokes it.

    The grant bypasses governance (no proposal, no delay) — exactly what access-control monitoring
    must flag. The undo path is legitimate: the proposer schedules ``revokeRole`` on the Timelock.
    """

    name = "unauthorized-role-grant"

    async def apply(self, ctx: ScenarioContext) -> str:
        attacker = ctx.one("attacker")
        role = role_id(ROLE_NAME)
        if not await ctx.chain.call(ROLE_TARGET, "hasRole", role, attacker):
            await as_timelock(ctx, ROLE_TARGET, "grantRole", role, attacker)
        ctx.store.put(self.name, {"contract": ROLE_TARGET, "role": ROLE_NAME, "account": attacker})
        return f"{ROLE_TARGET} {ROLE_NAME} granted to the attacker {attacker} (by the impersonated Timelock)."

    async def undo(self, ctx: ScenarioContext) -> str:
        attacker = ctx.one("attacker")
        role = role_id(ROLE_NAME)
        if await ctx.chain.call(ROLE_TARGET, "hasRole", role, attacker):
            await via_timelock(ctx, ROLE_TARGET, "revokeRole", role, attacker)
        ctx.store.remove(self.name)
        return f"{ROLE_TARGET} {ROLE_NAME} revoked from {attacker} through the Timelock."


class Pause(Scenario):
    """The guardian pauses every registered contract (pauseAll); undo: unpauseAll through the Timelock.

    While in force PT transfers revert with EnforcedPause; the simulator skips token activity.
    """

    name = "pause"

    async def apply(self, ctx: ScenarioContext) -> str:
        if not await ctx.chain.call("PaymentToken", "paused"):
            await ctx.chain.send(ctx.one("guardian"), "EmergencyController", "pauseAll", gas=2_000_000)
        ctx.store.put(self.name, {})
        return "Every registered contract is paused (guardian pauseAll)."

    async def undo(self, ctx: ScenarioContext) -> str:
        if await ctx.chain.call("PaymentToken", "paused"):
            await via_timelock(ctx, "EmergencyController", "unpauseAll")
        ctx.store.remove(self.name)
        return "Contracts unpaused through the Timelock (unpauseAll)."


class TradingHalt(Scenario):
    """The guardian halts PT trading (EmergencyController.haltTrading); undo: Timelock resumeTrading."""

    name = "trading-halt"

    async def apply(self, ctx: ScenarioContext) -> str:
        if not await ctx.chain.call("EmergencyController", "tradingHalted"):
            await ctx.chain.send(ctx.one("guardian"), "EmergencyController", "haltTrading")
        ctx.store.put(self.name, {})
        return "PT trading is halted (guardian haltTrading)."

    async def undo(self, ctx: ScenarioContext) -> str:
        if await ctx.chain.call("EmergencyController", "tradingHalted"):
            await via_timelock(ctx, "EmergencyController", "resumeTrading")
        ctx.store.remove(self.name)
        return "PT trading resumed through the Timelock (resumeTrading)."


class FeeChange(Scenario):
    """The fee manager sets the PT transfer fee (--fee-bps, default 100); undo restores the old fee."""

    name = "fee-change"

    async def apply(self, ctx: ScenarioContext) -> str:
        maximum = int(await ctx.chain.call("PaymentToken", "MAX_FEE_BPS"))
        new = ctx.options.fee_bps
        if not 0 <= new <= maximum:
            raise ScenarioError(f"--fee-bps is {new}; the PaymentToken allows 0..{maximum}.")
        current = int(await ctx.chain.call("PaymentToken", "feeBps"))
        recorded = ctx.store.get(self.name)
        old = int(recorded["old_fee_bps"]) if recorded else current
        if current != new:
            await ctx.chain.send(ctx.one("fee_manager"), "PaymentToken", "setFee", new)
        ctx.store.put(self.name, {"old_fee_bps": old, "fee_bps": new})
        return f"PT fee changed from {old} to {new} bps."

    async def undo(self, ctx: ScenarioContext) -> str:
        recorded = ctx.store.get(self.name)
        if recorded is None:
            return "fee-change is not in force; nothing to undo."
        old = int(recorded["old_fee_bps"])
        if int(await ctx.chain.call("PaymentToken", "feeBps")) != old:
            await ctx.chain.send(ctx.one("fee_manager"), "PaymentToken", "setFee", old)
        ctx.store.remove(self.name)
        return f"PT fee restored to {old} bps."
