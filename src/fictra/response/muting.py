"""The one Muter protocol silences and inhibition rules share, so one pipeline stage serves both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Muter(Protocol):
    def mutes(self, labels: Mapping[str, str], *, alert_id: int) -> str | None:
        """Why this alert is muted (e.g. ``silence 3``), or None."""
