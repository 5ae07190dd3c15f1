"""Run the platform pipeline (what `fictra up` runs, minus the devnet and the terminal) until killed.

python tests/e2e/crash_driver.py DATA_DIR CONFIG_DIR MANIFEST START_BLOCK [--notify]

``--notify`` adds the response stages and the notification outbox (``Parts(response, notify)``): alerts
are routed, escalated and delivered as ``fictra up`` does; without it, the detection core only.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path

from fictra.chain.manifest import Manifest
from fictra.clock import SystemClock
from fictra.platform.assemble import Parts, assemble
from fictra.platform.run import run
from fictra.settings import load_settings


async def main(
    data_dir: Path, config_dir: Path, manifest_path: Path, start_block: int, *, notify: bool
) -> None:
    settings = load_settings(data_dir=data_dir, config_dir=config_dir)
    manifest = Manifest.load(manifest_path)
    parts = replace(Parts.core_only(), response=True, notify=True) if notify else Parts.core_only()
    platform = await assemble(
        settings=settings,
        clock=SystemClock(),
        manifest=manifest,
        start_block=start_block,
        batch_size=5,
        parts=parts,
    )
    try:
        await run(platform, stop=asyncio.Event())
    finally:
        await platform.aclose()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    asyncio.run(
        main(Path(args[0]), Path(args[1]), Path(args[2]), int(args[3]), notify="--notify" in sys.argv[1:])
    )
