"""The Timelock family: unpause_all, resume_trading — recovery goes through governance's delay.

Two transactions from the governance key: ``Timelock.schedule(target, 0, data, 0, salt, minDelay)``
then, once ``isOperationReady``, ``Timelock.execute(...)``. Until then the action is ``scheduled`` with
its ready time (chain time) and the runner comes back. The salt is derived from the action id and params
hash, so the operation id is stable across restarts of the runner.
"""

from __future__ import annotations

from datetime import UTC, datetime

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from fictra.emergency.abi import encode_call
from fictra.emergency.kinds.base import ActionFacts, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.controller import observe_paused, observe_trading
from fictra.emergency.kinds.onchain import OnChainKind
from fictra.emergency.kinds.spec import RECOVERY, RESPONDERS, Definition, NoParams, Signs

__all__ = ["ResumeTrading", "TimelockKind", "UnpauseAll", "timelock_op_id"]

ZERO32 = b"\x00" * 32
_SIGNS = (Signs("governance", "Timelock", "FictraTimelock", ("schedule", "execute")),)


def timelock_op_id(target: str, data: str, salt: bytes) -> bytes:
    encoded = abi_encode(
        ["address", "uint256", "bytes", "bytes32", "bytes32"],
        [target, 0, bytes.fromhex(data.removeprefix("0x")), ZERO32, salt],
    )
    return keccak(encoded)


class TimelockKind(OnChainKind):
    """An EmergencyController function run through the Timelock; subclasses name the function."""

    function: str

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        reader, fn = ctx.reader, self.function
        ec = reader.address("EmergencyController")
        inner = encode_call("EmergencyController", fn)
        timelock = reader.address("Timelock")
        (delay,) = await reader.read("Timelock", "getMinDelay")
        salt = keccak(text=f"fictra:action:{action.id}:{action.params_hash}")
        op = timelock_op_id(ec, inner, salt)
        body = bytes.fromhex(inner[2:])
        schedule = encode_call("FictraTimelock", "schedule", ec, 0, body, ZERO32, salt, delay)
        execute = encode_call("FictraTimelock", "execute", ec, 0, body, ZERO32, salt)
        effect = (timelock, ec, inner)
        return [
            PlannedCall(
                0, f"Timelock.schedule(EmergencyController.{fn}(), delay {delay}s)", "governance",
                timelock, schedule, effect=effect,
            ),
            PlannedCall(
                1, f"Timelock.execute(EmergencyController.{fn}())", "governance", timelock, execute,
                wait_ready=op, effect=effect,
            ),
        ]  # fmt: skip

    async def ready(self, ctx: KindContext, action: ActionFacts, call: PlannedCall) -> bool | None:
        op = call.wait_ready
        if op is None:
            return True
        (ready,) = await ctx.reader.read("Timelock", "isOperationReady", op)
        if ready:
            return True
        if action.status != "scheduled":
            (timestamp,) = await ctx.reader.read("Timelock", "getTimestamp", op)
            ready_at = datetime.fromtimestamp(int(timestamp), UTC)
            await ctx.recorder.event(
                action.id, "scheduled",
                f"Scheduled on the Timelock (operation 0x{op.hex()[:12]}…); executable from "
                f"{ready_at.isoformat()} (chain time)",
                updates={
                    "status": "scheduled", "scheduled_ready_at": ready_at,
                    "timelock_op": {"id": "0x" + op.hex(), "ready_at": ready_at.isoformat()},
                },
                operation=f"0x{op.hex()}", ready_at=ready_at.isoformat(),
            )  # fmt: skip
        return False


class UnpauseAll(TimelockKind):
    function = "unpauseAll"
    definition = Definition(
        "unpause_all",
        "Unpause every contract (through the Timelock)",
        "EmergencyController.unpauseAll() scheduled on the Timelock with the governance key and "
        "executed once ready; verified when no target reports paused().",
        NoParams, RESPONDERS, RECOVERY, "governance", "timelock", signs=_SIGNS,
    )  # fmt: skip

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        return await observe_paused(ctx.reader)

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["paused_count"] == 0)


class ResumeTrading(TimelockKind):
    function = "resumeTrading"
    definition = Definition(
        "resume_trading",
        "Resume PaymentToken trading (through the Timelock)",
        "EmergencyController.resumeTrading() through the Timelock; verified when not tradingHalted().",
        NoParams, RESPONDERS, RECOVERY, "governance", "timelock", signs=_SIGNS,
    )  # fmt: skip

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        return await observe_trading(ctx.reader)

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return not seen.details["trading_halted"]
