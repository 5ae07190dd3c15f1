"""What the HTTP app needs from the running platform, in one value built by the caller.

``fictra up`` builds an :class:`AppContext` from the assembled platform; tests build one from a migrated
database and a fake clock. Routers read it with :func:`fictra.api.deps.app_context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.metrics import Metrics
from fictra.settings import Settings

if TYPE_CHECKING:
    from fictra.auth.permissions import RoleMap
    from fictra.platform.assemble import Platform
    from fictra.rules.loader import LoadedConfig


@dataclass
class AppContext:
    """``status`` returns the live platform status (follower, endpoints) as plain data; ``config`` is the
    loaded config-as-code (monitors, network) and defaults to the platform's; ``roles`` is the role map
    (default: read from ``settings.config_dir``/roles.yaml by the auth module)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    clock: Clock
    status: Callable[[], dict[str, Any]]
    config: LoadedConfig | None = None
    platform: Platform | None = None
    roles: RoleMap | None = None

    @property
    def loaded_config(self) -> LoadedConfig | None:
        if self.config is not None:
            return self.config
        return self.platform.config if self.platform is not None else None
