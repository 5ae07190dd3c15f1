"""Run the platform pipeline (what `fictra up` runs, minus the devnet and the terminal) until killed.

python tests/e2e/crash_driver.py DATA_DIR CONFIG_DIR MANIFEST START_BLOCK
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fictra.chain.manifest import Manifest
from fictra.clock import SystemClock
from fictra.platform.assemble import assemble
from fictra.platform.run import run
from fictra.settings import load_settings


async def main(data_dir: Path, config_dir: Path, manifest_path: Path, start_block: int) -> None:
    settings = load_settings(data_dir=data_dir, config_dir=config_dir)
    manifest = Manifest.load(manifest_path)
    platform = await assemble(
        settings=settings, clock=SystemClock(), manifest=manifest, start_block=start_block, batch_size=5
    )
    try:
        await run(platform, stop=asyncio.Event())
    finally:
        await platform.aclose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
