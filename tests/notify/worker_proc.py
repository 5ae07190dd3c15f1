"""Run an outbox worker in its own process (for the kill -9 test): python worker_proc.py DB_URL RECEIVERS."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fictra.clock import SystemClock
from fictra.db.engine import make_engine, session_factory
from fictra.notify.config import load_receivers
from fictra.notify.worker import Outbox


async def main(url: str, receivers: Path) -> None:
    engine = make_engine(url)
    box = Outbox(
        sessions=session_factory(engine),
        config=load_receivers(receivers),
        clock=SystemClock(),
        base_dir=receivers.parent,
    )
    print("worker started", flush=True)
    await box.run(asyncio.Event())  # until killed


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
