"""Token and reserve faults: an outsized PT transfer, a reserve drain."""

from __future__ import annotations

from fictra.devnet.scenarios.base import Scenario, ScenarioContext
from fictra.errors import ScenarioError

FULL_RATIO_BPS = 10_000
MAX_UINT = 2**256 - 1


class LargeTransfer(Scenario):
    """One trader sends another 90% of its PT balance — far above normal settlement sizes."""

    name = "large-transfer"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        traders = ctx.chain.role("traders")
        if len(traders) < 2:
            raise ScenarioError("large-transfer needs two traders in the manifest.")
        if await ctx.chain.call("PaymentToken", "paused") or await ctx.chain.call(
            "EmergencyController", "tradingHalted"
        ):
            raise ScenarioError("PT cannot move while paused or halted; undo `pause` / `trading-halt` first.")
        balance = int(await ctx.chain.call("PaymentToken", "balanceOf", traders[0]))
        if balance == 0:
            raise ScenarioError(f"Trader {traders[0]} holds no PT; redeploy with `fictra devnet deploy`.")
        amount = balance * 9 // 10
        await ctx.chain.send(traders[0], "PaymentToken", "transfer", traders[1], amount)
        return f"{amount / 1e18:,.0f} PT sent from {traders[0]} to {traders[1]}."


class ReserveDrain(Scenario):
    """The reserve manager withdraws assets until PT is under-collateralized; undo re-deposits them."""

    name = "reserve-drain"

    async def apply(self, ctx: ScenarioContext) -> str:
        chain = ctx.chain
        if ctx.store.get(self.name) is not None:
            ratio = int(await chain.call("Reserve", "collateralRatioBps"))
            return f"reserve-drain already in force (collateral ratio {ratio} bps)."
        if await chain.call("Reserve", "paused"):
            raise ScenarioError("The Reserve is paused, so nothing can be withdrawn; undo `pause` first.")
        manager = ctx.one("reserve_manager")
        withdrawn: dict[str, int] = {}
        for asset in await chain.call("Reserve", "assets"):
            if int(await chain.call("Reserve", "collateralRatioBps")) < FULL_RATIO_BPS:
                break
            balance = int(
                await chain.at("ReserveAsset", asset)
                .functions.balanceOf(chain.contract("Reserve").address)
                .call()
            )
            if balance:
                await chain.send(manager, "Reserve", "withdraw", asset, balance, manager)
                withdrawn[str(asset)] = balance
        ratio = int(await chain.call("Reserve", "collateralRatioBps"))
        ctx.store.put(self.name, {"withdrawn": {a: str(v) for a, v in withdrawn.items()}, "to": manager})
        return f"Withdrew {len(withdrawn)} reserve asset balance(s); collateral ratio now {ratio} bps."

    async def undo(self, ctx: ScenarioContext) -> str:
        chain = ctx.chain
        recorded = ctx.store.get(self.name)
        if recorded is None:
            return "reserve-drain is not in force; nothing to undo."
        manager = str(recorded["to"])
        reserve = chain.contract("Reserve").address
        for asset, amount in dict(recorded["withdrawn"]).items():
            token = chain.at("ReserveAsset", asset)
            approve = token.encode_abi("approve", args=[reserve, int(amount)])
            receipt = await chain.receipt(await chain.send_raw(manager, token.address, approve))
            if receipt["status"] != 1:
                raise ScenarioError(f"Approving {asset} for the Reserve reverted.")
            await chain.send(manager, "Reserve", "deposit", asset, int(amount))
        ctx.store.remove(self.name)
        ratio = int(await chain.call("Reserve", "collateralRatioBps"))
        return f"Re-deposited the drained assets; collateral ratio {ratio} bps."
