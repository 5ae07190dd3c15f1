"""Run the benchmark modules of this package and write ``bench/results/<name>.json`` for each.

Each module exposes ``async def run(args: argparse.Namespace) -> dict``; ``args`` holds the
``--name value`` options given after the module names (see :func:`options`).

python -m bench                      # every module
python -m bench devnet --fill 100000 # only bench/devnet.py, with its options
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def discover() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_") and not m.ispkg
    )


def split_args(argv: list[str], known: list[str]) -> tuple[list[str], list[str]]:
    """Leading words that name modules select them; everything else goes to the modules."""
    names: list[str] = []
    rest = list(argv)
    while rest and not rest[0].startswith("-"):
        word = rest.pop(0)
        if word not in known:
            raise SystemExit(f"error: unknown benchmark '{word}'. Known: {', '.join(known)}.")
        names.append(word)
    return names or known, rest


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def options(rest: list[str]) -> argparse.Namespace:
    """``--some-key value`` / ``--flag`` pairs as a Namespace (``some_key``), plus ``argv`` (the raw list).

    Every module reads the options it knows with ``getattr(args, name, None)`` and ignores the rest.
    """
    ns = argparse.Namespace(argv=list(rest))
    i = 0
    while i < len(rest):
        word = rest[i]
        if not word.startswith("--"):
            raise SystemExit(f"error: unexpected argument '{word}' (options look like --name value).")
        key, _, inline = word[2:].partition("=")
        if inline:
            value: Any = _value(inline)
        elif i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            value = _value(rest[i + 1])
            i += 1
        else:
            value = True
        setattr(ns, key.replace("-", "_"), value)
        i += 1
    return ns


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def summarize(name: str, result: dict[str, Any]) -> str:
    scalars = ", ".join(f"{k}={_fmt(v)}" for k, v in result.items() if isinstance(v, int | float | str))
    return f"{name}: {scalars}"


async def main(argv: list[str]) -> int:
    known = discover()
    names, rest = split_args(argv, known)
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.monotonic()
        result: dict[str, Any] = await module.run(options(rest))
        result.setdefault("bench_seconds", round(time.monotonic() - started, 3))
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(summarize(name, result))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
