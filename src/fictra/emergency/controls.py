"""The platform-side hooks that the component kinds (isolate, restore, restart) act through.

:class:`PlatformControl` is the small protocol those kinds need; the integrator passes an implementation
in (the emergency domain never imports the platform); :class:`PoolControls` implements it on
a running platform (the RPC pool's isolation switch, the supervisor's restarts, and a set of isolated
contracts the runner refuses to send to); :class:`MemoryControls` is the in-memory implementation tests
and tools use. ``state()`` is what verification reads back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from fictra.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool

__all__ = ["MemoryControls", "PlatformControl", "PlatformControls", "PoolControls", "Restarts"]


class _Restarted(Protocol):
    @property
    def restarts(self) -> int: ...


class Restarts(Protocol):
    """What :class:`PoolControls` needs of the platform's supervisor (``platform.supervisor`` fits)."""

    @property
    def names(self) -> Sequence[str]: ...

    def restart(self, name: str) -> _Restarted: ...

    def state(self, name: str) -> _Restarted: ...


class PlatformControl(Protocol):
    async def isolate(self, *, endpoint: str | None = None, contract: str | None = None) -> None:
        """Stop using the RPC endpoint / stop sending actions to the contract."""

    async def restore(self, *, endpoint: str | None = None, contract: str | None = None) -> None:
        """Undo :meth:`isolate`."""

    async def restart(self, component: str) -> int:
        """Restart a platform component; returns its restart count after the request."""

    def state(self) -> dict[str, Any]:
        """``{"isolated_endpoints": [...], "isolated_contracts": [...], "restarts": {name: n}}``."""

    def contract_isolated(self, address: str) -> str | None:
        """The contract's name when the address is isolated, else None."""


class MemoryControls:
    """Isolation and restarts held in memory; components and endpoints named up front."""

    def __init__(
        self,
        *,
        endpoints: Sequence[str] = (),
        contracts: dict[str, str] | None = None,
        components: Sequence[str] = (),
    ) -> None:
        self.endpoints = list(endpoints)
        self.contracts = dict(contracts or {})  # name -> address
        self.components = list(components)
        self.isolated_endpoints: set[str] = set()
        self.isolated_contracts: set[str] = set()
        self.restarts: dict[str, int] = dict.fromkeys(self.components, 0)

    def _endpoint(self, name: str) -> str:
        if name not in self.endpoints:
            known = ", ".join(self.endpoints) or "none"
            raise NotFoundError(f"No RPC endpoint named '{name}' (network.yaml endpoints: {known}).")
        return name

    def _contract(self, name: str) -> str:
        if name not in self.contracts:
            raise NotFoundError(
                f"No contract named '{name}' in the manifest; known: {', '.join(sorted(self.contracts))}."
            )
        return name

    async def isolate(self, *, endpoint: str | None = None, contract: str | None = None) -> None:
        if endpoint is not None:
            self._endpoint(endpoint)
            left = set(self.endpoints) - self.isolated_endpoints - {endpoint}
            if not left:
                raise ConflictError(
                    f"Isolating endpoint '{endpoint}' would leave the platform without an RPC endpoint; "
                    "add or restore another endpoint first."
                )
            self.isolated_endpoints.add(endpoint)
            self._apply_endpoint(endpoint, True)
        if contract is not None:
            self.isolated_contracts.add(self._contract(contract))

    async def restore(self, *, endpoint: str | None = None, contract: str | None = None) -> None:
        if endpoint is not None:
            self.isolated_endpoints.discard(self._endpoint(endpoint))
            self._apply_endpoint(endpoint, False)
        if contract is not None:
            self.isolated_contracts.discard(self._contract(contract))

    def _apply_endpoint(self, name: str, isolated: bool) -> None:
        """Hook for subclasses that switch a real pool."""

    async def restart(self, component: str) -> int:
        if component not in self.restarts:
            raise NotFoundError(
                f"No platform component named '{component}'; the components are: "
                f"{', '.join(sorted(self.restarts)) or 'none'}."
            )
        self.restarts[component] += 1
        return self.restarts[component]

    def state(self) -> dict[str, Any]:
        return {
            "isolated_endpoints": sorted(self.isolated_endpoints),
            "isolated_contracts": sorted(self.isolated_contracts),
            "restarts": dict(self.restarts),
        }

    def contract_isolated(self, address: str) -> str | None:
        for name in self.isolated_contracts:
            if self.contracts[name].lower() == address.lower():
                return name
        return None


class PoolControls(MemoryControls):
    """On a running platform: endpoints switch the RPC pool (network.yaml order = pool order),
    restarts go to the supervisor."""

    def __init__(
        self,
        *,
        pool: RpcPool,
        endpoint_names: Sequence[str],
        manifest: Manifest,
        supervisor: Restarts | None = None,
    ) -> None:
        super().__init__(
            endpoints=endpoint_names,
            contracts={name: entry.address for name, entry in manifest.contracts.items()},
        )
        self.pool = pool
        self.supervisor = supervisor

    def _apply_endpoint(self, name: str, isolated: bool) -> None:
        self.pool.set_isolated(self.endpoints.index(name), isolated)

    async def restart(self, component: str) -> int:
        if self.supervisor is None:
            raise ConflictError("This process runs no supervised components; restart needs `fictra up`.")
        return self.supervisor.restart(component).restarts + 1

    def state(self) -> dict[str, Any]:
        doc = super().state()
        doc["isolated_endpoints"] = sorted(
            name for i, name in enumerate(self.endpoints) if self.pool.endpoints[i].isolated
        )
        if self.supervisor is not None:
            doc["restarts"] = {n: self.supervisor.state(n).restarts for n in self.supervisor.names}
        return doc


PlatformControls = PlatformControl  # the earlier name
