"""Helpers shared by the command modules: settings from the environment, the rich console."""

from __future__ import annotations

from rich.console import Console

from fictra.settings import Settings, load_settings

console = Console(highlight=False)


def settings() -> Settings:
    return load_settings()
