"""Helpers shared by the command modules: settings from the environment, the rich console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from fictra.settings import Settings, load_settings, private_umask, secure_data_dir

if TYPE_CHECKING:
    from fictra.platform.config_set import ConfigSet

console = Console(highlight=False)


def settings() -> Settings:
    from fictra.audit.seal import register

    s = load_settings()
    private_umask()  # the database, WAL/SHM, log, keys, manifest: 0600 in a 0700 data directory
    secure_data_dir(s.data_dir)
    register(database_url=s.resolved_database_url(), data_dir=s.data_dir)  # audit entries get sealed
    return s


def config_set() -> ConfigSet:
    """The config directory's config set (every file read once, every problem reported at once)."""
    from fictra.platform.config_set import load_config_set

    return load_config_set(settings().config_dir)
