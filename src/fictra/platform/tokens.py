"""The foundation-token domain's glue: the reconciliation monitor for ``fictra up``, the allocation
verification report and the issuance request (pre-checks against the registry and the chain, then the
``ft_issue`` action proposed under its approval rule) for the API and the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.types import ActionView
from fictra.tokens.config import TokensConfig
from fictra.tokens.issuance import IssuanceRequest, precheck
from fictra.tokens.monitor import AllocationMonitor
from fictra.tokens.reads import read_allocations, read_supply
from fictra.tokens.registry import report_row

__all__ = ["allocation_monitor", "allocation_report", "request_issuance"]


def allocation_monitor(
    config: TokensConfig, *, manifest: Manifest, pool: RpcPool, network: str
) -> AllocationMonitor | None:
    if not (config.reconcile.enabled and config.sovereigns and config.token in manifest.contracts):
        return None
    return AllocationMonitor(config=config, pool=pool, token=manifest.address(config.token), network=network)


async def allocation_report(
    config: TokensConfig, *, manifest: Manifest, pool: RpcPool
) -> list[dict[str, Any]]:
    """The allocation verification report: one row per registry sovereign, with what differs."""
    chain = await read_allocations(pool, token=manifest.address(config.token), sovereigns=config.sovereigns)
    return [report_row(s, chain[s.id]) for s in config.sovereigns]


async def request_issuance(
    session: AsyncSession,
    *,
    config: TokensConfig,
    emergency: EmergencyConfig,
    manifest: Manifest,
    pool: RpcPool,
    request: IssuanceRequest,
    actor: object,
    clock: Clock,
    on_event: service.OnEvent | None = None,
) -> ActionView:
    """Check ``request`` (every failed check in one ConflictError) and propose the ``ft_issue`` action."""
    token = manifest.address(config.token)
    sovereign = config.sovereign(request.sovereign)
    chain = None
    if sovereign is not None:
        chain = (await read_allocations(pool, token=token, sovereigns=[sovereign]))[sovereign.id]
    supply = await read_supply(pool, token=token)
    today: date = clock.now().date()
    params = precheck(config, request, chain=chain, supply=supply, today=today)
    return await service.propose(
        session, kind="ft_issue", params=params, actor=actor, clock=clock, reason=request.reason,
        rules=emergency.rules, on_event=on_event,
    )  # fmt: skip
