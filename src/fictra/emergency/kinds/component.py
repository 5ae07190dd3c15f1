"""The platform-component family: isolate, restore, restart — no transaction; they act on the running
platform through the :class:`~fictra.emergency.controls.PlatformControl` the integrator passes in (the
RPC pool's isolation switch, the supervisor's restarts) and verify by reading its state back."""

from __future__ import annotations

from typing import Any

from fictra.emergency.kinds.base import ActionFacts, DryRunResult, Observation, PlannedCall, Progress
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.spec import COMPONENT, RESPONDERS, ComponentTarget, Definition, RestartParams

__all__ = ["Isolate", "Restart", "Restore"]


class _Component:
    definition: Definition

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return []

    async def dry_run(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> DryRunResult:
        head = await ctx.reader.head()
        if ctx.controls is None:
            text = "no platform controls in this process (run it under `fictra up`)"
            return DryRunResult(head, False, False, [{"ok": False, "revert": text}], text + ".")
        state = ctx.controls.state()
        target = ", ".join(f"{k} '{v}'" for k, v in action.params.items())
        text = f"would {action.kind} {target}; now: {state}"
        return DryRunResult(head, True, False, [{"now": str(state), "observed": state}], text + ".")


def _what(params: dict[str, Any]) -> str:
    endpoint = params.get("endpoint")
    return f"endpoint '{endpoint}'" if endpoint else f"contract '{params.get('contract')}'"


class _Switch(_Component):
    isolate: bool

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress:
        controls = ctx.require_controls()
        endpoint, contract = action.params.get("endpoint"), action.params.get("contract")
        if self.isolate:
            await controls.isolate(endpoint=endpoint, contract=contract)
        else:
            await controls.restore(endpoint=endpoint, contract=contract)
        verb = "Isolated" if self.isolate else "Restored"
        await ctx.recorder.event(action.id, "applied", f"{verb} {_what(action.params)}", **action.params)
        return "done"

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        state = ctx.require_controls().state()
        endpoint = action.params.get("endpoint")
        listed = state["isolated_endpoints"] if endpoint else state["isolated_contracts"]
        isolated = (endpoint or action.params.get("contract")) in listed
        text = f"{_what(action.params)} is {'isolated' if isolated else 'in use'}"
        return Observation(text, {"state": state, "isolated": isolated})

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["isolated"]) == self.isolate


class Isolate(_Switch):
    isolate = True
    definition = Definition(
        "isolate",
        "Isolate a component",
        "The platform stops using an RPC endpoint, or refuses to send actions to a contract; "
        "verified by reading the platform state back.",
        ComponentTarget, RESPONDERS, COMPONENT, "none", "platform", containment=True,
        example={"endpoint": "backup"},
    )  # fmt: skip


class Restore(_Switch):
    isolate = False
    definition = Definition(
        "restore",
        "Restore an isolated component",
        "Undo isolate: the platform uses the endpoint / contract again.",
        ComponentTarget, RESPONDERS, COMPONENT, "none", "platform", example={"endpoint": "backup"},
    )  # fmt: skip


class Restart(_Component):
    definition = Definition(
        "restart",
        "Restart a platform component",
        "Restart the follower, response tick, notify worker... through the platform's controls.",
        RestartParams, RESPONDERS, COMPONENT, "none", "platform", example={"component": "follower"},
    )  # fmt: skip

    def _restarts(self, ctx: KindContext, component: str) -> int:
        return int(ctx.require_controls().state().get("restarts", {}).get(component, 0))

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress:
        component = str(action.params["component"])
        count = await ctx.require_controls().restart(component)
        await ctx.recorder.event(
            action.id, "applied", f"Restart of '{component}' requested",
            updates={"timelock_op": {"restarts_wanted": count}}, component=component,
        )  # fmt: skip
        for _ in range(100):  # the supervisor restarts it on its own loop
            if self._restarts(ctx, component) >= count:
                break
            await ctx.clock.sleep(ctx.poll_interval)
        return "done"

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        component = str(action.params["component"])
        restarts = self._restarts(ctx, component)
        return Observation(
            f"'{component}' restarted {restarts} time(s)", {"component": component, "restarts": restarts}
        )

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return int(seen.details["restarts"]) >= int(action.state.get("restarts_wanted", 1))
