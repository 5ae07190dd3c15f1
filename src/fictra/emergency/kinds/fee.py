"""The protocol-parameter family: set_pt_fee — PaymentToken's transfer fee set through the Timelock.

A fee change is a governance decision, not an operator's: ``PaymentToken.setFee(fee_bps)`` is scheduled
on the Timelock with the governance key (the Timelock holds FEE_MANAGER_ROLE; the devnet deploy grants
it) and executed once the delay has passed, like ``unpause_all``. Verified by reading ``feeBps()`` back.
Change requests name it as an on-chain step (docs/changes.md).
"""

from __future__ import annotations

from eth_utils.crypto import keccak
from pydantic import Field

from fictra.emergency.abi import encode_call
from fictra.emergency.kinds.base import ActionFacts, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.spec import RECOVERY, Definition, Params, Signs
from fictra.emergency.kinds.timelock import ZERO32, TimelockKind, timelock_op_id

__all__ = ["FeeParams", "SetPtFee"]

MAX_FEE_BPS = 100  # PaymentToken.MAX_FEE_BPS
_SIGNS = (Signs("governance", "Timelock", "FictraTimelock", ("schedule", "execute")),)


class FeeParams(Params):
    fee_bps: int = Field(ge=0, le=MAX_FEE_BPS, description="The new transfer fee in basis points.")


class SetPtFee(TimelockKind):
    function = "setFee"
    definition = Definition(
        "set_pt_fee",
        "Set the PaymentToken transfer fee (through the Timelock)",
        "PaymentToken.setFee(fee_bps) scheduled on the Timelock with the governance key and executed "
        "once ready; verified when feeBps() reads the new fee.",
        FeeParams,
        ("technical_lead", "system_architect", "operations_manager"),
        RECOVERY,
        "governance",
        "timelock",
        example={"fee_bps": 25},
        signs=_SIGNS,
    )

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        reader = ctx.reader
        fee = int(action.params["fee_bps"])
        token = reader.address("PaymentToken")
        inner = encode_call("PaymentToken", "setFee", fee)
        timelock = reader.address("Timelock")
        (delay,) = await reader.read("Timelock", "getMinDelay")
        salt = keccak(text=f"fictra:action:{action.id}:{action.params_hash}")
        op = timelock_op_id(token, inner, salt)
        body = bytes.fromhex(inner[2:])
        schedule = encode_call("FictraTimelock", "schedule", token, 0, body, ZERO32, salt, delay)
        execute = encode_call("FictraTimelock", "execute", token, 0, body, ZERO32, salt)
        effect = (timelock, token, inner)
        return [
            PlannedCall(
                0, f"Timelock.schedule(PaymentToken.setFee({fee}), delay {delay}s)", "governance",
                timelock, schedule, effect=effect,
            ),
            PlannedCall(
                1, f"Timelock.execute(PaymentToken.setFee({fee}))", "governance", timelock, execute,
                wait_ready=op, effect=effect,
            ),
        ]  # fmt: skip

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        (fee,) = await ctx.reader.read("PaymentToken", "feeBps")
        return Observation(f"PaymentToken fee {int(fee)} bps", {"fee_bps": int(fee)})

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["fee_bps"] == int(action.params["fee_bps"]))
