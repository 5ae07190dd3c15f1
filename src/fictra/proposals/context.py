"""What the proposals interfaces (API, CLI, console) and the verification job need, in one value.

The platform builds one :class:`ProposalsContext` (``platform.domains``) with the RPC of the chain, the
fork URL (the first endpoint), the Anvil fork launcher and the lookups into change management;
``platform.proposals.standalone_context`` builds one without a running platform (the CLI): the same,
over one RPC client (``wired`` False: the follower is not running, so new chain events are not
recorded until ``fictra up`` runs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.fork import ForkStarter, anvil_fork
from fictra.chain.manifest import Manifest
from fictra.clock import Clock
from fictra.proposals.follow import ChangesReferencing, no_changes
from fictra.proposals.probes import Rpc

__all__ = ["OFFLINE_NOTE", "ChangeExists", "ProposalsContext"]

OFFLINE_NOTE = (
    "not connected to a running platform: the Governor's events are recorded only while `fictra up` runs "
    "(the follower); reviews, simulations and verifications work"
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
