"""Audit entries for response state changes, in the caller's transaction (``fictra.audit.service``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock


async def audit(
    session: AsyncSession,
    *,
    actor: Any,
    action: str,
    target: str,
    clock: Clock,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    from fictra.audit.service import record

    await record(
        session,
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


def actor_name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(getattr(actor, "username", actor))
