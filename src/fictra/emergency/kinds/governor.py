"""The Governor family: upgrade — a FictraGovernor proposal for ``upgradeToAndCall`` on a UUPS proxy:
propose, then (once the vote succeeded) queue, then (once queued and its eta passed) execute; every new
proposal state is a timeline event; verified by the ERC-1967 implementation slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.emergency.abi import encode_call
from fictra.emergency.kinds.base import ActionFacts, Observation, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.kinds.onchain import OnChainKind
from fictra.emergency.kinds.spec import ApprovalRule, Definition, Signs, UpgradeParams

__all__ = ["IMPLEMENTATION_SLOT", "PROPOSAL_STATES", "Upgrade"]

PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
# ERC-1967 implementation slot: bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)
IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
_DEAD = ("Canceled", "Defeated", "Expired")


class Upgrade(OnChainKind):
    definition = Definition(
        "upgrade",
        "Contract upgrade through a governance proposal",
        "A FictraGovernor proposal for upgradeToAndCall(implementation, data) on a UUPS proxy; "
        "tracked through the proposal states; verified by the ERC-1967 implementation slot.",
        UpgradeParams,
        ("technical_lead", "system_architect"),
        ApprovalRule(
            count=2,
            roles=("technical_lead", "system_architect", "security_officer", "operations_manager"),
            must_include=("security_officer",),
            ttl=timedelta(hours=24),
            proposer_counts=True,
        ),
        "governance",
        "governor",
        example={
            "proxy": "PaymentToken",
            "implementation": "0x" + "11" * 20,
            "description": "Upgrade PaymentToken",
        },
        signs=(Signs("governance", "Governor", "FictraGovernor", ("propose", "queue", "execute")),),
    )

    async def plan(self, ctx: KindContext, action: ActionFacts) -> list[PlannedCall]:
        reader, params = ctx.reader, action.params
        proxy = reader.address(str(params["proxy"]))
        inner = encode_call(
            reader.artifact(str(params["proxy"])),
            "upgradeToAndCall",
            to_checksum_address(str(params["implementation"])),
            bytes.fromhex(str(params.get("data", "0x"))[2:]),
        )
        description = str(params["description"])
        desc_hash = keccak(text=description)
        batch = ([proxy], [0], [bytes.fromhex(inner[2:])])
        (proposal_id,) = await reader.read("Governor", "hashProposal", *batch, desc_hash)
        governor = reader.address("Governor")
        what = f"{params['proxy']}.upgradeToAndCall({params['implementation']})"
        return [
            PlannedCall(
                0, f"Governor.propose({what})", "governance", governor,
                encode_call("FictraGovernor", "propose", *batch, description),
                effect=(reader.address("Timelock"), proxy, inner),
            ),
            PlannedCall(
                1, f"Governor.queue({what})", "governance", governor,
                encode_call("FictraGovernor", "queue", *batch, desc_hash),
                wait_proposal=(int(proposal_id), "Succeeded"),
            ),
            PlannedCall(
                2, f"Governor.execute({what})", "governance", governor,
                encode_call("FictraGovernor", "execute", *batch, desc_hash),
                wait_proposal=(int(proposal_id), "Queued"),
            ),
        ]  # fmt: skip

    async def ready(self, ctx: KindContext, action: ActionFacts, call: PlannedCall) -> bool | None:
        """Is the proposal in the state this step needs (Queued also needs its eta passed)? A proposal
        that can no longer get there fails the action; each new state is a timeline event."""
        if call.wait_proposal is None:
            return True
        proposal_id, wanted = call.wait_proposal
        (raw,) = await ctx.reader.read("Governor", "state", proposal_id)
        state = PROPOSAL_STATES[int(raw)]
        ready = state == wanted
        eta = None
        if ready and wanted == "Queued":
            (eta,) = await ctx.reader.read("Governor", "proposalEta", proposal_id)
            ready = await ctx.reader.chain_time() >= int(eta)
        seen = dict(action.state)
        updates: dict[str, Any] = {}
        if eta and not ready:  # recorded with the state change to Queued
            updates["scheduled_ready_at"] = datetime.fromtimestamp(int(eta), UTC)
        if seen.get("proposal_state") != state:
            updates["timelock_op"] = {**seen, "proposal_id": str(proposal_id), "proposal_state": state}
            if state in _DEAD:
                updates.update(status="failed", error=f"governance proposal {state.lower()}")
                await ctx.recorder.event(
                    action.id, "failed", f"Governance proposal {state.lower()}", updates=updates,
                    proposal_state=state,
                )  # fmt: skip
                return None
            if not ready:  # (the status may have moved on during this pass: a step confirmed)
                updates["status"] = "scheduled"
            await ctx.recorder.event(
                action.id, "proposal", f"Governance proposal {str(proposal_id)[:12]}… is {state}",
                updates=updates, proposal_id=str(proposal_id), proposal_state=state,
                eta=int(eta) if eta else None,
            )  # fmt: skip
        return ready

    async def observe(self, ctx: KindContext, action: ActionFacts) -> Observation:
        params = action.params
        proxy = ctx.reader.address(str(params["proxy"]))
        raw = await ctx.reader.pool.call("eth_getStorageAt", [proxy, IMPLEMENTATION_SLOT, "latest"])
        current = to_checksum_address("0x" + str(raw)[-40:])
        want = to_checksum_address(str(params["implementation"]))
        text = f"{params['proxy']} implementation is {current}" + (
            "" if current == want else f" (want {want})"
        )
        return Observation(text, {"implementation": current, "expected": want})

    def verify(self, action: ActionFacts, seen: Observation) -> bool:
        return bool(seen.details["implementation"] == seen.details["expected"])
