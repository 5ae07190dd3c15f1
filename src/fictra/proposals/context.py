"""What the proposals interfaces (API, CLI, console) and the verification job need, in one value.

The platform builds one :class:`ProposalsContext` (``platform.domains``) with the RPC of the chain, the
fork URL (the first endpoint), the Anvil fork launcher and the lookups into change management;
:func:`offline_context` builds one from a manifest alone (``fictra proposals`` without ``fictra up``):
it reads the chain at the manifest's RPC URL, and knows change requests only through the links made
here (``wired`` False; the interfaces say so).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.fork import ForkStarter, anvil_fork
from fictra.chain.manifest import Manifest
from fictra.chain.rpc import RpcClient
from fictra.clock import Clock
from fictra.proposals.follow import ChangesReferencing, no_changes
from fictra.proposals.probes import Rpc

__all__ = ["OFFLINE_NOTE", "ChangeExists", "ProposalsContext", "offline_context"]

OFFLINE_NOTE = (
    "not connected to a running platform: change requests are known only through the links made with "
    "the proposals API/CLI"
)

# does change request ``id`` exist?
ChangeExists = Callable[[AsyncSession, int], Awaitable[bool]]


async def _unknown_change(session: AsyncSession, change_id: int) -> bool:
    return True  # offline: the link is recorded; the platform checks it when wired


@dataclass(frozen=True)
class ProposalsContext:
    manifest: Manifest
    clock: Clock
    rpc: Rpc
    fork_url: str
    start_fork: ForkStarter = anvil_fork
    changes_referencing: ChangesReferencing = no_changes
    change_exists: ChangeExists = _unknown_change
    wired: bool = True

    @property
    def network(self) -> str:
        return self.manifest.network


def offline_context(*, manifest: Manifest, clock: Clock) -> tuple[ProposalsContext, RpcClient]:
    """A context over the manifest's RPC URL; close the returned client when done."""
    client = RpcClient(url=manifest.rpc_url, timeout=30.0)

    async def rpc(method: str, params: list[Any]) -> Any:
        return await client.call(method, params)

    ctx = ProposalsContext(manifest=manifest, clock=clock, rpc=rpc, fork_url=manifest.rpc_url, wired=False)
    return ctx, client
