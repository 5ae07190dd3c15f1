"""The policy family: policy_enable, policy_disable — whether an automatic-response policy of
``emergency.yaml`` may trigger its pre-approved action. No transaction: the ``response_policies`` row
changes (audited as ``policy.enable`` / ``policy.disable``) and is read back. Proposing needs
``policies.manage``, whichever route the proposal comes through."""

from __future__ import annotations

from fictra.audit.service import record
from fictra.emergency.kinds.base import ActionFacts, DryRunResult, Observation, PlannedCall, Progress
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.spec import POLICY_MANAGERS, RECOVERY, Definition, PolicyParams
from fictra.emergency.models import ResponsePolicyState
from fictra.emergency.service import load_action

__all__ = ["PolicyDisable", "PolicyEnable"]


class _PolicySwitch:
    definition: Definition
    enabled: bool

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        return []

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        name = str(action.params["policy"])
        async with ctx.sessions() as s:
            row = await s.get(ResponsePolicyState, name)
        on = bool(row and row.enabled)
        return Observation(
            f"policy '{name}' is {'enabled' if on else 'disabled'}", {"policy": name, "enabled": on}
        )

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["enabled"]) == self.enabled

    async def dry_run(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> DryRunResult:
        ctx.config.policy(str(action.params["policy"]))  # 404 naming the known policies
        head = await ctx.reader.head()
        now = await self.observe(ctx, action)
        text = f"{now.text} now; would be {'enabled' if self.enabled else 'disabled'}"
        steps = [{"now": text, "observed": {"enabled": now.details["enabled"]}}]
        return DryRunResult(head, True, False, steps, text + ".")

    async def execute(self, ctx: KindContext, action: ActionFacts, plan: list[PlannedCall]) -> Progress:
        name, enabled = str(action.params["policy"]), self.enabled
        async with ctx.sessions.begin() as s:
            locked = await load_action(s, action.id, lock=True)
            who = locked.executed_by or "system"
            row = await s.get(ResponsePolicyState, name, with_for_update=True)
            before = bool(row and row.enabled)
            now = ctx.clock.now()
            if row is None:
                row = ResponsePolicyState(
                    name=name, enabled=enabled, changed_at=now, changed_by=who, action_id=locked.id
                )
                s.add(row)
            else:
                row.enabled, row.changed_at, row.changed_by, row.action_id = enabled, now, who, locked.id
            await s.flush()
            await record(
                s, actor=who, action="policy." + ("enable" if enabled else "disable"),
                target=f"policy:{name}", before={"enabled": before}, after={"enabled": enabled},
                reason=f"approved action {locked.id}", clock=ctx.clock,
            )  # fmt: skip
            await ctx.recorder.add(
                s, locked, "applied", f"Policy '{name}' {'enabled' if enabled else 'disabled'}"
            )
        return "done"


class PolicyEnable(_PolicySwitch):
    enabled = True
    definition = Definition(
        "policy_enable",
        "Enable an automatic-response policy",
        "Lets the policy trigger its pre-approved action when a matching alert fires.",
        PolicyParams, POLICY_MANAGERS, RECOVERY, "none", "policy",
        permission="policies.manage", example={"policy": "reserve-drain-pause"},
    )  # fmt: skip


class PolicyDisable(_PolicySwitch):
    enabled = False
    definition = Definition(
        "policy_disable",
        "Disable an automatic-response policy",
        "The policy stops triggering actions.",
        PolicyParams, POLICY_MANAGERS, RECOVERY, "none", "policy",
        permission="policies.manage", example={"policy": "reserve-drain-pause"},
    )  # fmt: skip
