"""The one place access control writes audit entries (``fictra.audit.service.record``), in the caller's
transaction so the change and its entry commit together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.auth.actor import Actor
from fictra.clock import Clock


async def audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    clock: Clock,
) -> None:
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
