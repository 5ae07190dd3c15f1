"""What a scenario is: a named, documented fault the runbooks must handle, applied to a running devnet.

Each scenario is a subclass of :class:`Scenario` whose docstring's first line is its one-line summary
(``fictra devnet scenario --list``). For a *state* scenario (pause, trading-halt, fee-change,
reserve-drain, role grant, oracle-stall, node-down, gas-spike) ``apply`` is idempotent — applying it while
in force changes nothing more — and ``undo`` restores the healthy state (also idempotent). An *event*
scenario (oracle-deviation, oracle-jump, large-transfer, failed-tx-burst, reorg; ``reversible = False``)
is one more occurrence each time it is applied; what it did is chain history, so it has no undo.
Reversible scenarios record what they did in the :class:`~fictra.devnet.scenarios.store.ScenarioStore`
so that ``undo`` (in a later process) knows what to restore.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

from eth_utils.crypto import keccak

from fictra.devnet.chainutil import DevChain
from fictra.devnet.scenarios.store import ScenarioStore
from fictra.errors import ScenarioError

ZERO32 = b"\x00" * 32


@dataclass
class ScenarioOptions:
    feed: str = "BRENT"
    depth: int = 3
    count: int = 20
    fee_bps: int = 100


@dataclass
class ScenarioContext:
    chain: DevChain
    store: ScenarioStore
    anvil_pid: int | None = None
    options: ScenarioOptions = field(default_factory=ScenarioOptions)

    def one(self, role: str) -> str:
        addresses = self.chain.role(role)
        if not addresses:
            raise ScenarioError(
                f"The manifest names no '{role}' account; redeploy with `fictra devnet deploy`."
            )
        return addresses[0]


class Scenario:
    name: ClassVar[str] = ""
    reversible: ClassVar[bool] = True

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]

    async def apply(self, ctx: ScenarioContext) -> str:
        raise NotImplementedError

    async def undo(self, ctx: ScenarioContext) -> str:
        raise ScenarioError(f"Scenario '{self.name}' cannot be undone (what it did is chain history).")


def role_id(name: str) -> bytes:
    """OpenZeppelin role id: keccak256("NAME_ROLE"); DEFAULT_ADMIN_ROLE is zero."""
    return ZERO32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


async def via_timelock(ctx: ScenarioContext, target: str, fn: str, *args: Any) -> None:
    """Governance path: the devnet proposer schedules ``target.fn(*args)`` on the Timelock, time moves
    past the minimum delay, then the proposer (an executor) executes it."""
    chain = ctx.chain
    contract = chain.contract(target)
    data = contract.encode_abi(fn, args=list(args))
    proposer = ctx.one("proposer")
    delay = int(await chain.call("Timelock", "getMinDelay"))
    salt = keccak(os.urandom(32))
    await chain.send(proposer, "Timelock", "schedule", contract.address, 0, data, ZERO32, salt, delay)
    await chain.increase_time(delay + 1)
    await chain.send(proposer, "Timelock", "execute", contract.address, 0, data, ZERO32, salt, gas=2_000_000)


async def as_timelock(ctx: ScenarioContext, target: str, fn: str, *args: Any) -> None:
    """Send ``target.fn(*args)`` *from* the Timelock by impersonating it (bypassing governance)."""
    timelock = ctx.chain.manifest.address("Timelock")
    await ctx.chain.impersonate(timelock)
    try:
        await ctx.chain.send(timelock, target, fn, *args)
    finally:
        await ctx.chain.stop_impersonating(timelock)
