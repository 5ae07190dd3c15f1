"""The post-implementation review (a change cannot close without it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.changes.models import ChangeRequest
from fictra.changes.records import event, load
from fictra.changes.schemas import ReviewInput
from fictra.changes.service import ChangeRefused
from fictra.clock import Clock

__all__ = ["record_review"]


async def record_review(
    session: AsyncSession, *, change_id: int, review: ReviewInput, actor: object, clock: Clock
) -> ChangeRequest:
    change = await load(session, change_id, lock=True)
    if change.state not in ("review", "failed", "rolled_back"):
        raise ChangeRefused(
            f"Change {change_id} is {change.state}; it is reviewed after implementation (review, "
            "failed or rolled_back)."
        )
    change.review = {**review.model_dump(mode="json"), "by": actor_name(actor), "at": clock.now().isoformat()}
    await event(
        session, change, kind="reviewed", actor=actor, clock=clock,
        text=f"{actor_name(actor)} reviewed the change ({'success' if review.success else 'not a success'})",
        details={"review": change.review},
    )  # fmt: skip
    return change
