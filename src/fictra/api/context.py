"""What the HTTP app needs from the running platform, in one value built by the caller.

``fictra up`` builds an :class:`AppContext` from the assembled platform; tests build one from a migrated
database and a fake clock. Routers read it with :func:`fictra.api.deps.app_context`. The config set is
read once, when the context is built (never per request): routers take their section from
:attr:`AppContext.config_set`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.metrics import Metrics
from fictra.platform.config_set import ConfigSet, load_config_set
from fictra.settings import Settings

if TYPE_CHECKING:
    from fictra.auth.permissions import RoleMap
    from fictra.platform.assemble import Platform


@dataclass
class AppContext:
    """``status`` returns the live platform status (follower, endpoints) as plain data; ``config`` is the
    config set and defaults to the platform's, else it is loaded once from ``settings.config_dir`` here;
    ``roles`` is the role map (default: the config set's)."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    clock: Clock
    status: Callable[[], dict[str, Any]]
    config: ConfigSet | None = None
    platform: Platform | None = None
    roles: RoleMap | None = None

    def __post_init__(self) -> None:
        if self.config is None:
            self.config = (
                self.platform.config
                if self.platform is not None
                else load_config_set(self.settings.config_dir)
            )
        if self.roles is None:
            self.roles = self.config.roles

    @property
    def config_set(self) -> ConfigSet:
        """The config set in force (read at start-up)."""
        if self.config is None:  # only when a caller set it to None after construction
            self.config = load_config_set(self.settings.config_dir)
        return self.config

    @property
    def loaded_config(self) -> ConfigSet | None:
        return self.config_set
