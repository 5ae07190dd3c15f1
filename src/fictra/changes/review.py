"""The post-implementation review (a change cannot close without it): success criteria, documentation
updates and lessons learned as typed, plus what is measured: the performance impact on the affected
components (:mod:`fictra.changes.metrics`, before vs after the implementation) and the stakeholders'
feedback collected so far (:mod:`fictra.changes.feedback`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.changes import metrics
from fictra.changes.feedback import feedback_of
from fictra.changes.models import ChangeEvent, ChangeRequest
from fictra.changes.records import event, load
from fictra.changes.schemas import ReviewInput
from fictra.changes.service import ChangeRefused
from fictra.clock import Clock

__all__ = ["record_review"]


async def record_review(
    session: AsyncSession,
    *,
    change_id: int,
    review: ReviewInput,
    actor: object,
    clock: Clock,
    network: str | None = None,
    period: metrics.Period | None = None,
) -> ChangeRequest:
    """Store the review; with ``network`` (the chain the series are recorded for) the performance
    comparison is computed now and kept with it. The series are stamped with block timestamps; the period
    compared is the implementation's start and end from the timeline (wall clock, which a live chain's
    block time follows) unless ``period`` gives it (e.g. in chain time on a devnet whose block timestamps
    run ahead after a fast deploy or ``evm_increaseTime``)."""
    change = await load(session, change_id, lock=True)
    if change.state not in ("review", "failed", "rolled_back"):
        raise ChangeRefused(
            f"Change {change_id} is {change.state}; it is reviewed after implementation (review, "
            "failed or rolled_back)."
        )
    performance = None
    if network:
        rows = await session.execute(
            select(ChangeEvent.kind, ChangeEvent.at)
            .where(ChangeEvent.change_id == change.id)
            .order_by(ChangeEvent.id)
        )
        if period is None:
            period = metrics.period_of([(k, at) for k, at in rows.all()], change.planned_start, clock.now())
        performance = await metrics.compare(session, network=network, period=period, names=review.metrics)
    feedback = await feedback_of(session, change.id)
    change.review = {
        **review.model_dump(mode="json"), "by": actor_name(actor), "at": clock.now().isoformat(),
        "performance": performance, "feedback": [f for f in feedback if f["submitted_at"]],
        "feedback_asked": [f["stakeholder"] for f in feedback],
    }  # fmt: skip
    await event(
        session, change, kind="reviewed", actor=actor, clock=clock,
        text=f"{actor_name(actor)} reviewed the change ({'success' if review.success else 'not a success'})",
        details={"review": change.review},
    )  # fmt: skip
    return change
