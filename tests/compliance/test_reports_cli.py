"""`fictra compliance report --from --to` as a user runs it (a subprocess, real exit codes): the CSV of a
period, and a reversed period refused with exit 2 and no stack trace."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from cli.clirun import fictra
from fictra.clock import SystemClock
from fictra.compliance.kyc import KycInput, upsert_kyc
from fictra.compliance.report_models import TransferRow
from fictra.db.engine import make_engine, migrate, session_factory

ALICE, BOB = "0x" + "a0" * 20, "0x" + "b0" * 20


def test_report_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'fictra.db'}"

    async def populate() -> None:
        migrate(url)
        engine = make_engine(url)
        async with session_factory(engine)() as s, s.begin():
            await upsert_kyc(
                s,
                KycInput(
                    participant="alice", name="Alice", status="approved", addresses=(ALICE,), country="FR"
                ),
                actor="co",
                clock=SystemClock(),
            )
            for i, (day, value) in enumerate(((3, 150_000), (20, 40), (31, 7))):
                s.add(
                    TransferRow(
                        block_number=10 + i,
                        log_index=0,
                        tx_hash=f"0x{i:064x}",
                        token="PaymentToken",
                        sender=ALICE,
                        recipient=BOB,
                        value=str(value * 10**18),
                        at=datetime(2026, 10, day, 12, tzinfo=UTC),
                    )
                )
        await engine.dispose()

    asyncio.run(populate())
    out = fictra(
        data, "compliance", "report", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "csv"
    )
    assert out.returncode == 0, out.stderr
    rows = {
        (r["section"], r["key"]): (r["count"], r["amount"]) for r in csv.DictReader(io.StringIO(out.stdout))
    }
    assert rows[("participant_sent", "alice")] == ("2", "150040")  # the 31st is outside [from, to)
    assert rows[("participant_received", "unattributed")] == ("2", "150040")
    assert rows[("large", "alice->unattributed")] == ("1", "150000")
    assert rows[("country", "FR")] == ("2", "150040")
    bad = fictra(data, "compliance", "report", "--from", "2026-11-01", "--to", "2026-10-01")
    assert bad.returncode == 2 and "period is empty" in bad.stderr and "Traceback" not in bad.stderr
