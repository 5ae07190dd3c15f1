"""`fictra alerts list/show` against the SQLite database under FICTRA_DATA_DIR (migrated on open)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.alerting.service import apply_findings, retract_for_reorg
from fictra.chain.types import Reorg
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory

from .clirun import fictra


def _finding(subject: str, severity: Severity, block: int, n: int = 1) -> list[Finding]:
    return [
        Finding(
            monitor="large-pt-transfer",
            severity=severity,
            summary=f"Large PT transfer from {subject}",
            labels={"from": subject, "contract": "PaymentToken"},
            block=BlockRef(block, f"0x{block:064x}"),
            tx_hashes=(f"0x{block:064x}",),
            evidence={"observed": 10**24 + i, "expected": "< 1e24"},
            confirmations=2,
        )
        for i in range(n)
    ]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'fictra.db'}"

    async def populate() -> None:
        migrate(url)
        engine = make_engine(url)
        clock = SystemClock()
        async with session_factory(engine)() as s, s.begin():
            await apply_findings(s, _finding("0xaaa", Severity.P0, 10, n=5), [], head=10, clock=clock)
            await apply_findings(s, _finding("0xbbb", Severity.P2, 11), [], head=11, clock=clock)
            await apply_findings(s, _finding("0xccc", Severity.P2, 12), [], head=12, clock=clock)
            await apply_findings(
                s,
                [],
                [Clear(monitor="large-pt-transfer", labels={"from": "0xbbb", "contract": "PaymentToken"})],
                head=12,
                clock=clock,
            )
            await retract_for_reorg(
                s, reorg=Reorg("devnet", common_ancestor=11, depth=1, old_hashes=()), clock=clock
            )
        await engine.dispose()

    asyncio.run(populate())
    return data


def _rows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_list_table_and_json_filters(data_dir: Path) -> None:
    table = fictra(data_dir, "alerts", "list")
    assert table.returncode == 0, table.stderr
    assert "Large PT transfer from 0xaaa" in table.stdout and "retracted" in table.stdout
    everything = _rows(fictra(data_dir, "alerts", "list", "--json").stdout)
    assert len(everything) == 3
    firing = _rows(fictra(data_dir, "alerts", "list", "--json", "--status", "firing").stdout)
    assert [r["labels"]["from"] for r in firing] == ["0xaaa"]  # type: ignore[index]
    assert firing[0]["count"] == 5
    p2 = _rows(
        fictra(data_dir, "alerts", "list", "--json", "--severity", "P2", "--label", "from=0xccc").stdout
    )
    assert [(r["confirmation"], r["status"]) for r in p2] == [("retracted", "resolved")]
    recent = _rows(fictra(data_dir, "alerts", "list", "--json", "--since", "1h", "--limit", "2").stdout)
    assert len(recent) == 2
    assert (
        fictra(data_dir, "alerts", "list", "--since", "2999-01-01T00:00:00").stdout.strip()
        == "No alerts match."
    )


def test_show_by_id_and_fingerprint_prefix_with_evidence_and_timeline(data_dir: Path) -> None:
    [row] = _rows(fictra(data_dir, "alerts", "list", "--json", "--label", "from=0xccc").stdout)
    by_id = fictra(data_dir, "alerts", "show", str(row["id"]))
    assert by_id.returncode == 0, by_id.stderr
    out = by_id.stdout
    assert f"fingerprint:  {row['fingerprint']}" in out
    assert "retracted:    block 12" in out
    assert '"observed": 1000000000000000000000000' in out
    timeline = out.split("Timeline:")[1]
    assert [line.split()[2] for line in timeline.strip().splitlines()] == ["fired", "retracted"]
    by_prefix = fictra(data_dir, "alerts", "show", str(row["fingerprint"])[:10], "--json")
    assert by_prefix.returncode == 0, by_prefix.stderr
    detail = json.loads(by_prefix.stdout)
    assert detail["id"] == row["id"] and [e["kind"] for e in detail["events"]] == ["fired", "retracted"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alerts", "show", "999"], "error: No alert with id or fingerprint prefix '999'."),
        (["alerts", "list", "--label", "oops"], "error: --label 'oops' is not key=value."),
        (["alerts", "list", "--severity", "P7"], "error: Severity 'P7' is not one of: P0, P1, P2, P3."),
        (["alerts", "list", "--since", "yesterday"], "error: --since 'yesterday' is neither an ISO time"),
    ],
)
def test_bad_input_is_one_line_exit_2(data_dir: Path, args: list[str], message: str) -> None:
    result = fictra(data_dir, *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1


def test_list_on_a_fresh_data_dir_migrates_and_is_empty(tmp_path: Path) -> None:
    result = fictra(tmp_path / "fresh", "alerts", "list")
    assert (result.returncode, result.stdout.strip()) == (0, "No alerts match.")
    assert (tmp_path / "fresh" / "fictra.db").is_file()


def test_list_fits_an_80_column_terminal(data_dir: Path) -> None:
    table = fictra(data_dir, "alerts", "list", env={"COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "sev", "state", "count", "last", "seen", "monitor", "summary"]
    assert all(len(line) <= 80 for line in lines), lines
    assert len(lines) == 4  # header + 3 alerts, one line each


def test_ack_needs_an_identity_never_the_unix_user(data_dir: Path) -> None:
    bare = fictra(data_dir, "alerts", "ack", "1", env={"FICTRA_OPERATOR": ""})
    assert bare.returncode == 2 and "Traceback" not in bare.stderr
    assert "Who is acting? Give --as NAME, or set FICTRA_OPERATOR=NAME" in bare.stderr
    configured = fictra(data_dir, "alerts", "ack", "1", env={"FICTRA_OPERATOR": "ops-bob"})
    assert configured.returncode == 0, configured.stderr
    shown = fictra(data_dir, "alerts", "show", "1", "--json")
    assert json.loads(shown.stdout)["acknowledged_by"] == "ops-bob"
