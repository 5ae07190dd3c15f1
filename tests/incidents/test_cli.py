"""`fictra incidents ...` as a user runs it (subprocess, own data dir): declare, refusals with exit 2 and one
line, roles, outputs, update, tasks, report to a file, close; `--as` is what the audit log records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli.clirun import fictra

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def run(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = fictra(home / "data", *args, cwd=home, env={"FICTRA_CONFIG_DIR": str(home / "config")})
    return result.returncode, result.stdout, result.stderr


def ok(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 0, err
    assert "Traceback" not in err
    return out


def refused(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.startswith("error: ")
    return " ".join(err.split())


def _user(home: Path, name: str) -> None:
    import subprocess
    import sys

    from cli.clirun import CLI

    env = {
        "FICTRA_DATA_DIR": str(home / "data"),
        "FICTRA_CONFIG_DIR": str(home / "config"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", CLI, "users", "add", name, "--role", "technical_lead", "--password-stdin"],
        input="Correct-Horse-Battery-Staple-9\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_incident_lifecycle_from_the_terminal(home: Path) -> None:
    _user(home, "carol")
    out = ok(
        home,
        "incidents",
        "declare",
        "--title",
        "Feed stale",
        "--severity",
        "p1",
        "--category",
        "oracle",
        "--as",
        "lead",
    )
    assert out.startswith(
        "Incident 1 declared (P1 oracle); still needed: triage, impact_assessment, team_activation"
    )
    msg = refused(home, "incidents", "advance", "1", "response")
    assert msg.startswith("error: Incident 1 cannot leave phase detection: 4 required output(s) missing")
    assert "No user 'zed'" in refused(home, "incidents", "role", "1", "commander", "zed")
    assert "Output 'vibes' is not an incident output" in refused(
        home, "incidents", "output", "1", "vibes", "--text", "x"
    )
    assert "No incident with id 9" in refused(home, "incidents", "show", "9")
    ok(home, "incidents", "role", "1", "commander", "carol")
    ok(home, "incidents", "role", "1", "responder", "carol")
    out = ok(
        home,
        "incidents",
        "update",
        "1",
        "--template",
        "initial",
        "--group",
        "technical_team",
        "--impact",
        "GOLD stale",
    )
    assert out.startswith("Sent '[P1] Incident #1 declared: Feed stale' to 1 receiver channel(s).")
    for key in ("triage", "impact_assessment"):
        ok(home, "incidents", "output", "1", key, "--text", f"{key} done")
    ok(home, "incidents", "advance", "1", "response", "--note", "contained")
    ok(home, "incidents", "output", "1", "escalation", "--text", "P1 handled by the lead", "--not-required")
    assert "always required" in refused(
        home, "incidents", "output", "1", "containment", "--text", "x", "--not-required"
    )
    ok(home, "incidents", "task", "add", "1", "--title", "Second source", "--owner", "carol", "--due", "7d")
    assert "has no time zone" in refused(
        home,
        "incidents",
        "task",
        "add",
        "1",
        "--title",
        "x",
        "--owner",
        "carol",
        "--due",
        "2030-01-01T00:00:00",
    )
    ok(home, "incidents", "note", "1", "watching the feed")
    report = home / "r.pdf"
    assert "A PDF report needs --output FILE" in refused(home, "incidents", "report", "1", "--format", "pdf")
    ok(home, "incidents", "report", "1", "--format", "pdf", "-o", str(report))
    assert report.read_bytes().startswith(b"%PDF")
    md = ok(home, "incidents", "report", "1")
    assert md.startswith("# Incident report — #1: Feed stale")
    shown = json.loads(ok(home, "incidents", "show", "1", "--json"))
    assert (
        shown["phase"] == "response"
        and shown["commander"] == "carol"
        and shown["tasks"][0]["owner"] == "carol"
    )
    assert [t["kind"] for t in shown["timeline"]][-3:] == [
        "incident.note",
        "incident.report",
        "incident.report",
    ]
    assert shown["timeline"][0]["actor"] == "lead"
    listed = json.loads(ok(home, "incidents", "list", "--json"))
    assert [i["id"] for i in listed] == [1]
    assert "cannot close" in refused(home, "incidents", "close", "1")
    audit = ok(home, "audit", "show", "--action", "incident.*", "--limit", "100")
    assert "incident.declare" in audit and "incident.task.add" in audit
