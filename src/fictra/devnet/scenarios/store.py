"""Which scenarios are in force: ``<data_dir>/devnet/scenarios.json`` = {name: {details}}.

The simulator reads it (e.g. to skip a stalled feed); ``fictra devnet status`` lists it; ``--undo``
reads what it must restore (a previous fee, drained amounts...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fictra.devnet.state import write_json_atomic
from fictra.errors import DevnetError


class ScenarioStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise DevnetError(
                f"Scenario state '{self.path}' is not valid JSON ({exc}); delete it to start clean."
            ) from None
        if not isinstance(raw, dict):
            raise DevnetError(f"Scenario state '{self.path}' must be a JSON object; delete it.")
        return {str(k): dict(v) for k, v in raw.items()}

    def get(self, name: str) -> dict[str, Any] | None:
        return self.load().get(name)

    def put(self, name: str, details: dict[str, Any]) -> None:
        data = self.load()
        data[name] = details
        write_json_atomic(self.path, json.dumps(data, indent=2, sort_keys=True))

    def remove(self, name: str) -> dict[str, Any] | None:
        data = self.load()
        old = data.pop(name, None)
        write_json_atomic(self.path, json.dumps(data, indent=2, sort_keys=True))
        return old

    def stalled_feeds(self) -> set[str]:
        """Feed names (``Feed:BRENT``...) an oracle-stall scenario froze."""
        entry = self.get("oracle-stall") or {}
        return set(entry.get("feeds", []))
