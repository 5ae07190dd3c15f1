"""Serve the real app (create_app on a migrated SQLite database, the repo's config) in this process, as
``fictra up`` does: ``python serve_app.py DATABASE_URL PORT CONFIG_DIR``. Used by the tests that need a
real server process (one that can crash)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import eth_account  # noqa: F401  - the platform imports the eth stack; py_ecc raises the recursion limit

from fictra.api.app import create_app, serve
from fictra.api.context import AppContext
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.metrics import new_registry
from fictra.settings import load_settings


async def main(url: str, port: int, config_dir: Path) -> None:
    migrate(url)
    engine = make_engine(url)
    context = AppContext(
        settings=load_settings(config_dir=config_dir, data_dir=config_dir.parent / "data"),
        sessions=session_factory(engine),
        metrics=new_registry(),
        clock=SystemClock(),
        status=lambda: {"network": "devnet"},
    )
    await serve(create_app(context=context), host="127.0.0.1", port=port, stop=asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])))
