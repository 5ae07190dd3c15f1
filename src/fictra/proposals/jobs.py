"""The proposals' periodic work: ``proposals.verify`` runs the implementation review of every executed
proposal that was simulated and is not verified yet (as ``system``; a reviewer may run it again from the
API, CLI or console)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fictra.auth.actor import SYSTEM
from fictra.jobs import Job, JobContext
from fictra.proposals.context import ProposalsContext
from fictra.proposals.models import GovProposal
from fictra.proposals.service import verify

__all__ = ["proposal_jobs", "verify_executed"]


async def verify_executed(job: JobContext, ctx: ProposalsContext) -> list[int]:
    """Verify each executed, simulated, unverified proposal (one transaction each); their numbers."""
    async with job.sessions() as session:
        ids = list(
            (
                await session.execute(
                    select(GovProposal.id).where(
                        GovProposal.network == ctx.network,
                        GovProposal.status == "executed",
                        GovProposal.simulation.is_not(None),
                        GovProposal.verification.is_(None),
                    )
                )
            ).scalars()
        )
    for n in ids:
        async with job.sessions.begin() as session:
            await verify(session, ctx, proposal=n, actor=SYSTEM)
    return ids


def proposal_jobs(ctx: ProposalsContext, *, every: timedelta = timedelta(seconds=30)) -> list[Job]:
    async def run(job: JobContext) -> None:
        await verify_executed(job, ctx)

    return [Job(name="proposals.verify", every=every, run=run)]
