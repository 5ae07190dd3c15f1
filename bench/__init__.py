"""Benchmarks: ``python -m bench [NAME ...] [options]`` runs every module here (or the named ones).

Each module exposes ``async def run(args: argparse.Namespace) -> dict`` and reads the options it knows
from ``args`` (ignoring the rest); its result is written to ``bench/results/<name>.json``. Benchmarks measure,
they never assert timings.
"""
