"""Time to takeover of the alternate-site drill (tests/e2e/test_recovery_drill.py): from the SIGKILL of the
platform (a real subprocess, with the response stages and the outbox) to the second instance, started from
the latest backup restored into a new data directory, being back at the chain head — restore, start-up and
the catch-up of the blocks processed after the backup included — and to its outbox being drained (every
notification delivered). Each round also runs the uninterrupted reference and checks the drill's
assertions. Best of ``--rounds`` (default 1: a round takes 30-90 s; the long ones are those whose backup
caught a job lease of site A, which site B waits out); the machine's load with the figures.

python -m bench recovery --rounds 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._common import machine

TESTS = Path(__file__).resolve().parents[1] / "tests"


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from e2e.test_recovery_drill import drill  # the drill itself, with its assertions

    rounds = int(getattr(args, "rounds", None) or 1)
    figures = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="fictra-recovery-") as tmp:
            figures.append(await drill(Path(tmp)))
    best = min(figures, key=lambda f: f["takeover_s"])
    return {
        "takeover_s_best": best["takeover_s"],
        "takeover_s_all": [f["takeover_s"] for f in figures],
        "notifications_done_s_best": min(f["notifications_done_s"] for f in figures),
        "backup_age_at_kill_s": best["backup_age_at_kill_s"],
        "blocks_redone": best["blocks_redone"],
        "notifications": best["notifications"],
        "sent_again_same_key": best["sent_again_same_key"],
        "rounds": rounds,
        "what": "SIGKILL of site A -> latest backup restored into a new data dir -> site B at the head "
        "(takeover_s) and its outbox drained (notifications_done_s)",
        "machine": machine(),
    }
