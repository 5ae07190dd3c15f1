"""`fictra alerts ack|escalate|snooze|assign|note|clocks|breaches`, `fictra silences`, `fictra oncall` on a
SQLite file: in-process through typer (fast), plus one real subprocess for the exit code and the one-line
error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli.clirun import fictra
from fictra.alerting.findings import Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.settings import load_settings


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


REPO = Path(__file__).resolve().parents[2]
ICS = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:1\nSUMMARY:lead\nDTSTART:20200101T000000Z\nDTEND:20990101T000000Z\nEND:VEVENT\nEND:VCALENDAR\n"  # noqa: E501


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    url = load_settings(data_dir=tmp_path).resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    async with session_factory(engine).begin() as session:
        await apply_findings(
            session,
            [
                Finding("node", Severity.P0, "node down", {"n": "1"}),
                Finding("gas", Severity.P2, "gas", {"n": "2"}),
            ],
            head=None,
            clock=SystemClock(),
        )
    await engine.dispose()
    return tmp_path


@pytest.fixture
def run(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """`fictra ARGS` in this process: FictraError becomes exit 2 and its message on stderr, as main() does."""
    from typer.testing import CliRunner

    from fictra.cli import app
    from fictra.errors import FictraError

    monkeypatch.setenv("FICTRA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FICTRA_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(_data_dir: Path, *args: str) -> Result:
        result = CliRunner().invoke(app, list(args))
        if isinstance(result.exception, FictraError):
            return Result(result.exception.exit_code, result.stdout, result.exception.user_message)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, "")

    return invoke


def test_a_failing_action_is_one_line_and_exit_2(data_dir: Path) -> None:
    r = fictra(
        data_dir, "alerts", "snooze", "1", "--for", "forever", env={"FICTRA_CONFIG_DIR": str(REPO / "config")}
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "error: --for 'forever': 'forever' is not a duration; use seconds or a number with ms/s/m/h/d, "
        "e.g. '15m'."
    ]


def test_alert_actions_silences_and_oncall(run, data_dir: Path, tmp_path: Path) -> None:
    r = run(data_dir, "alerts", "escalate", "1", "--note", "wake people up")
    assert r.returncode == 0, r.stderr
    assert "level first_level_support" in r.stdout and "[escalate_now]" in r.stdout
    r = run(data_dir, "alerts", "snooze", "1", "--for", "30m")
    assert r.returncode == 0 and "snoozed until" in r.stdout
    r = run(data_dir, "alerts", "snooze", "1", "--for", "forever")
    assert r.returncode == 2 and "--for 'forever'" in r.stderr and "Traceback" not in r.stderr
    r = run(data_dir, "alerts", "assign", "1", "lead")
    assert r.returncode == 0, r.stderr
    r = run(data_dir, "alerts", "assign", "1", "nobody-here")
    assert r.returncode == 2 and "neither a person in oncall.yaml nor a user" in r.stderr
    r = run(data_dir, "alerts", "note", "1", "looking into it")
    assert r.returncode == 0, r.stderr
    r = run(data_dir, "alerts", "ack", "1", "--as", "ops-alice")
    assert r.returncode == 0, r.stderr
    r = run(data_dir, "alerts", "ack", "1")
    assert r.returncode == 2 and "already acknowledged by ops-alice" in r.stderr
    r = run(data_dir, "alerts", "clocks", "1", "--json")
    view = json.loads(r.stdout)
    assert view["clocks"]["acknowledge"]["state"] == "met" and view["assignee"] == "lead"
    assert view["next_escalation_at"] is None
    r = run(data_dir, "alerts", "resolve", "2")
    assert r.returncode == 0, r.stderr
    r = run(data_dir, "alerts", "escalate", "2")
    assert r.returncode == 2 and "only a firing alert can be escalated" in r.stderr
    r = run(data_dir, "alerts", "breaches", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == []

    r = run(data_dir, "silences", "add", 'monitor="node"', "--end", "2h", "--comment", "maintenance")
    assert r.returncode == 0 and r.stdout.startswith("Silence 1 (active)"), r.stderr
    r = run(data_dir, "silences", "add", "monitor", "--end", "2h", "--comment", "x")
    assert r.returncode == 2 and "is not name=" in r.stderr
    r = run(data_dir, "silences", "list", "--json")
    assert [json.loads(line)["id"] for line in r.stdout.splitlines()] == [1]
    r = run(data_dir, "silences", "expire", "1")
    assert r.returncode == 0 and "expired" in r.stdout
    r = run(data_dir, "silences", "expire", "1")
    assert r.returncode == 2 and "already ended" in r.stderr

    r = run(data_dir, "oncall", "now", "--json")
    [first] = json.loads(r.stdout)
    assert first["schedule"] == "first-line" and first["now"][0]["person"] in ("support-1", "support-2")
    assert first["next"] and first["next_at"]
    r = run(data_dir, "oncall", "override", "first-line", "architect", "--end", "4h")
    assert r.returncode == 0, r.stderr
    r = run(data_dir, "oncall", "override", "first-line", "ghost", "--end", "4h")
    assert r.returncode == 2 and "Person 'ghost'" in r.stderr
    (tmp_path / "shifts.ics").write_text(ICS)
    r = run(data_dir, "oncall", "import", "first-line", str(tmp_path / "shifts.ics"))
    assert r.returncode == 0 and "Imported 1 shift(s) into first-line: lead" in r.stdout, r.stderr
    r = run(data_dir, "oncall", "import", "first-line", str(tmp_path / "missing.ics"))
    assert r.returncode == 2 and "Cannot read iCalendar file" in r.stderr
    r = run(data_dir, "oncall", "now")
    assert r.returncode == 0 and "architect, lead" in r.stdout, r.stdout
