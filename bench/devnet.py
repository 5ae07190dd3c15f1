"""Devnet benchmarks: how long `devnet up` takes (Anvil + full deployment), and fill throughput.

python -m bench devnet                 # 3 up runs, fill of 20,000 transactions
python -m bench devnet --fill 100000   # a 100k fill (or FICTRA_BENCH_FILL=100000)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fictra.chain.manifest import Manifest
from fictra.devnet import runtime
from fictra.devnet.fill import fill
from fictra.devnet.state import DevnetPaths

DEFAULT_FILL = 20_000


def _int(args: argparse.Namespace | None, name: str, default: int) -> int:
    value = getattr(args, name, None)
    return int(value) if value is not None else default


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    opts = argparse.Namespace(
        fill=_int(args, "fill", int(os.environ.get("FICTRA_BENCH_FILL", DEFAULT_FILL))),
        up_runs=_int(args, "up_runs", 3),
        batch_size=_int(args, "batch_size", 500),
    )
    up_times: list[float] = []
    fill_result = None
    with tempfile.TemporaryDirectory(prefix="fictra-bench-") as tmp:
        for i in range(max(1, opts.up_runs)):
            paths = DevnetPaths(Path(tmp) / f"run{i}")
            started = time.monotonic()
            result = await runtime.up(paths=paths, block_time=0)
            up_times.append(time.monotonic() - started)
            try:
                if i == 0 and opts.fill > 0:
                    fill_result = await fill(
                        rpc_url=result.state.rpc_url,
                        transactions=opts.fill,
                        manifest=Manifest.load(paths.manifest),
                        batch_size=opts.batch_size,
                    )
            finally:
                runtime.down(paths=paths)
    out: dict[str, Any] = {
        "devnet_up_seconds": round(statistics.median(up_times), 3),
        "devnet_up_runs": [round(t, 3) for t in up_times],
    }
    if fill_result is not None:
        out |= {
            "fill_transactions": fill_result.transactions,
            "fill_pt_transfers": fill_result.pt_transfers,
            "fill_blocks": fill_result.last_block - fill_result.first_block + 1,
            "fill_seconds": round(fill_result.seconds, 3),
            "fill_tx_per_s": round(fill_result.tx_per_s, 1),
        }
    return out
