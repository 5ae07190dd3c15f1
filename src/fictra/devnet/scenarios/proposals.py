"""Governance through the Governor, for the proposals review (docs/proposals.md).

``governance-proposal`` has a sovereign (FoundationToken holder, votes delegated at deployment) propose
"PT fee -> --fee-bps" through the Governor, and three sovereigns vote for it as soon as voting opens (the
devnet's voting period is 30 blocks: half a minute with one-second blocks). ``governance-pass`` carries
the last such proposal through: blocks are mined past the voting period, it is queued, time moves past
the Timelock delay and it is executed. Review it (``fictra proposals simulate|review``) in between.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from fictra.devnet.scenarios.base import Scenario, ScenarioContext
from fictra.errors import ScenarioError

PROPOSAL = "governance-proposal"
PENDING, ACTIVE, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 4, 5, 7


def _recorded(ctx: ScenarioContext) -> dict[str, Any]:
    recorded = ctx.store.get(PROPOSAL)
    if recorded is None:
        raise ScenarioError(f"No proposal to carry: run `fictra devnet scenario {PROPOSAL}` first.")
    return recorded


class GovernanceProposal(Scenario):
    """A sovereign proposes "PT fee -> --fee-bps" through the Governor; three sovereigns vote for it."""

    name = PROPOSAL
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        chain = ctx.chain
        maximum = int(await chain.call("PaymentToken", "MAX_FEE_BPS"))
        new = ctx.options.fee_bps
        if not 0 <= new <= maximum:
            raise ScenarioError(f"--fee-bps is {new}; the PaymentToken allows 0..{maximum}.")
        old = int(await chain.call("PaymentToken", "feeBps"))
        target = chain.manifest.address("PaymentToken")
        data = chain.contract("PaymentToken").encode_abi("setFee", args=[new])
        description = f"PT fee {old / 100:.2f}% -> {new / 100:.2f}% (block {await chain.head()})"
        proposer = chain.role("sovereigns")[0]
        await chain.send(proposer, "Governor", "propose", [target], [0], [data], description)
        pid = int(
            await chain.call("Governor", "hashProposal", [target], [0], [data], keccak(text=description))
        )
        if int(await chain.call("Governor", "state", pid)) == PENDING:
            await chain.mine(int(await chain.call("Governor", "votingDelay")) + 1)
        for voter in chain.role("sovereigns")[:3]:
            await chain.send(voter, "Governor", "castVote", pid, 1)
        ctx.store.put(self.name, {"proposal_id": str(pid), "target": target, "data": data,
                                  "description": description, "proposer": proposer})  # fmt: skip
        return f"Proposal {pid} created by {proposer}, voted for by three sovereigns: {description}."


class GovernancePass(Scenario):
    """The last governance-proposal is queued and executed once its vote ends (blocks mined, time moved)."""

    name = "governance-pass"
    reversible = False

    async def apply(self, ctx: ScenarioContext) -> str:
        chain, p = ctx.chain, _recorded(ctx)
        pid, desc_hash = int(p["proposal_id"]), keccak(text=p["description"])
        args = ([p["target"]], [0], [p["data"]], desc_hash)
        sovereigns = chain.role("sovereigns")
        if int(await chain.call("Governor", "state", pid)) == ACTIVE:
            await chain.mine(int(await chain.call("Governor", "votingPeriod")) + 1)
        if int(await chain.call("Governor", "state", pid)) == SUCCEEDED:
            await chain.send(sovereigns[0], "Governor", "queue", *args)
        if int(await chain.call("Governor", "state", pid)) == QUEUED:
            await chain.increase_time(int(await chain.call("Timelock", "getMinDelay")) + 1)
            await chain.send(sovereigns[0], "Governor", "execute", *args, gas=2_000_000)
        state = int(await chain.call("Governor", "state", pid))
        if state != EXECUTED:
            raise ScenarioError(f"Proposal {pid} ended in Governor state {state}, not executed.")
        ctx.store.remove(PROPOSAL)
        fee = await chain.call("PaymentToken", "feeBps")
        return f"Proposal {pid} voted, queued and executed; PT fee is {fee} bps."
