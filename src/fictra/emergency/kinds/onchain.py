"""The shared steps of kinds that send transactions: the dry run simulates the plan (``eth_call``, gas,
traced events) and execution sends each planned call in order through :class:`ActionTxs` (the one
transaction sender), resuming after a restart from the calls already recorded. A family that must wait
between calls (a Timelock delay, a governance vote) overrides :meth:`OnChainKind.ready`."""

from __future__ import annotations

from fictra.emergency.dryrun import simulate
from fictra.emergency.kinds.base import ActionFacts, DryRunResult, Observation, PlannedCall, Progress
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.spec import Definition

__all__ = ["OnChainKind"]


class OnChainKind:
    """Base of the on-chain kinds: subclasses set ``definition`` and implement ``plan``, ``observe`` and
    ``verify``."""

    definition: Definition

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        raise NotImplementedError

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        raise NotImplementedError

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        raise NotImplementedError

    async def dry_run(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> DryRunResult:
        head = await ctx.reader.head()
        now = await self.observe(ctx, action)
        signers = ctx.signers.addresses(c.signer for c in plan)
        return await simulate(ctx.reader, plan, signers=signers, now=now, head=head)

    async def ready(self, ctx: KindContext, action: ActionFacts, call: PlannedCall) -> bool | None:
        """May ``call`` be sent now? True: send; False: not yet (come back later); None: never (the
        kind recorded the failure)."""
        return True

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress:
        last = max(c.step for c in plan)
        for call in plan:
            sent = await ctx.txs.latest(action.id, call.step)
            if sent is None:
                ready = await self.ready(ctx, action, call)
                if ready is None:
                    return "failed"
                if not ready:
                    return "waiting"
            if await ctx.txs.step(action.id, call, last=call.step == last) == "failed":
                return "failed"
        return "done"
