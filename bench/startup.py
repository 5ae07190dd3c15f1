"""CLI start-up: ``fictra --help``, ``fictra alerts list`` vs ``python -c pass``, a bare typer + rich app.

Each command runs in a fresh interpreter ``--startup-rounds`` times (default 7), the sides alternating;
the best (least disturbed) wall time counts, the median is kept too. Targets on a quiet machine:
--help < 0.3 s, alerts list < 0.5 s.

python -m bench startup [--startup-rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import machine

BARE_TYPER = """
import typer
from rich.console import Console
app = typer.Typer(add_completion=False)
@app.command()
def hello(name: str = "x") -> None:
    Console().print(name)
@app.command()
def other() -> None:
    pass
app()
"""


def _commands(py: str) -> dict[str, list[str]]:
    return {
        "python_pass": [py, "-c", "pass"],
        "bare_typer_rich_help": [py, "-c", BARE_TYPER, "--help"],
        "fictra_help": [py, "-m", "fictra.cli", "--help"],
        "fictra_alerts_list": [py, "-m", "fictra.cli", "alerts", "list"],
    }


def _once(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{cmd[-2:]} failed: {done.stderr.decode()[-500:]}")
    return elapsed


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    rounds = int(getattr(args, "startup_rounds", None) or 7)
    commands = _commands(sys.executable)
    with tempfile.TemporaryDirectory(prefix="fictra-bench-startup-") as tmp:
        env = {**os.environ, "FICTRA_DATA_DIR": str(Path(tmp) / "data"), "COLUMNS": "100"}
        _once(commands["fictra_alerts_list"], env)  # creates the database once (migrations are not start-up)
        times: dict[str, list[float]] = {name: [] for name in commands}
        before = machine()
        for round_no in range(rounds):
            order = list(commands) if round_no % 2 == 0 else list(reversed(commands))
            for name in order:
                times[name].append(_once(commands[name], env))
    best = {name: min(v) for name, v in times.items()}
    return {
        "name": "startup",
        "rounds": rounds,
        "machine_before": before,
        "machine_after": machine(),
        **{f"{name}_best_s": round(v, 3) for name, v in best.items()},
        **{f"{name}_median_s": round(statistics.median(times[name]), 3) for name in times},
        "help_vs_bare_typer": round(best["fictra_help"] / best["bare_typer_rich_help"], 2),
        "alerts_list_vs_bare_typer": round(best["fictra_alerts_list"] / best["bare_typer_rich_help"], 2),
        "help_target_s": 0.3,
        "alerts_list_target_s": 0.5,
        "help_target_met": best["fictra_help"] < 0.3,
        "alerts_list_target_met": best["fictra_alerts_list"] < 0.5,
        "runs_s": {name: [round(x, 3) for x in v] for name, v in times.items()},
    }
