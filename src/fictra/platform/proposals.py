"""Governance proposals' view of change management (``proposals.follow.ChangesReferencing``,
``proposals.context.ChangeExists``), the block monitor and the context, built here: the proposals domain
imports no sibling domain.

A change request references a proposal through its own ``proposal_id`` field (the proposal's number in
``fictra proposals list``) or through a link made with the proposals API/CLI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.fork import anvil_fork
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import RpcClient
from fictra.changes.models import ChangeRequest
from fictra.clock import Clock
from fictra.proposals.context import ProposalsContext
from fictra.proposals.follow import GovernorState, ProposalsMonitor

__all__ = [
    "change_exists", "changes_referencing", "proposals_context", "proposals_monitor", "standalone_context",
]  # fmt: skip


async def changes_referencing(session: AsyncSession, ids: Sequence[int]) -> Mapping[int, list[int]]:
    """{proposal number: [ids of the change requests whose ``proposal_id`` names it]} (canceled changes
    do not count)."""
    out: dict[int, list[int]] = {}
    if not ids:
        return out
    rows = await session.execute(
        select(ChangeRequest.proposal_id, ChangeRequest.id).where(
            ChangeRequest.proposal_id.in_(list(ids)), ChangeRequest.state != "canceled"
        )
    )
    for proposal, change in rows:
        if proposal is not None:
            out.setdefault(int(proposal), []).append(int(change))
    return out


async def change_exists(session: AsyncSession, change_id: int) -> bool:
    return await session.get(ChangeRequest, change_id) is not None


_STATE = "0x" + keccak(text="state(uint256)")[:4].hex()


def governor_state(pool: RpcPool) -> GovernorState:
    """``Governor.state(id)`` at the head, through the pool."""

    async def state(governor: str, proposal_id: str) -> int:
        data = _STATE + int(proposal_id).to_bytes(32, "big").hex()
        return int(str(await pool.call("eth_call", [{"to": governor, "data": data}, "latest"])), 16)

    return state


def proposals_monitor(*, manifest: Manifest, clock: Clock, pool: RpcPool) -> ProposalsMonitor:
    return ProposalsMonitor(
        manifest=manifest,
        clock=clock,
        changes_referencing=changes_referencing,
        governor_state=governor_state(pool),
    )


def proposals_context(*, manifest: Manifest, clock: Clock, pool: RpcPool, fork_url: str) -> ProposalsContext:
    """The context of a running platform: chain reads through the pool, forks of ``fork_url``."""

    async def rpc(method: str, params: list[Any]) -> Any:
        return await pool.call(method, params)

    return ProposalsContext(
        manifest=manifest,
        clock=clock,
        rpc=rpc,
        fork_url=fork_url,
        start_fork=anvil_fork,
        changes_referencing=changes_referencing,
        change_exists=change_exists,
    )


@asynccontextmanager
async def standalone_context(
    *, manifest: Manifest, url: str, clock: Clock
) -> AsyncIterator[ProposalsContext]:
    """A context without a running platform (the CLI, the API of a bare ``fictra api``): the chain at
    ``url`` (the first endpoint), forks of it, the same change-management lookups (``wired`` False)."""
    client = RpcClient(url=url, timeout=30.0)

    async def rpc(method: str, params: list[Any]) -> Any:
        return await client.call(method, params)

    try:
        yield ProposalsContext(
            manifest=manifest,
            clock=clock,
            rpc=rpc,
            fork_url=url,
            start_fork=anvil_fork,
            changes_referencing=changes_referencing,
            change_exists=change_exists,
            wired=False,
        )
    finally:
        await client.aclose()
