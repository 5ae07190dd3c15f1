"""`fictra procedures ...` as a user runs it (subprocess, own data dir, no chain): run opens the current due
time's run (automated steps stay pending without the chain), list and show, a sign-off refused for a role
the step does not allow (exit 2, one line) and accepted for one it does, audited under that user."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli.clirun import CLI, fictra

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = fictra(home / "data", *args, cwd=home, env={"FICTRA_CONFIG_DIR": str(home / "config")})
    return result.returncode, result.stdout, result.stderr


def ok(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 0, (out, err)
    assert "Traceback" not in err
    return out


def _user(home: Path, name: str, role: str) -> None:
    env = {
        "FICTRA_DATA_DIR": str(home / "data"),
        "FICTRA_CONFIG_DIR": str(home / "config"),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", CLI, "users", "add", name, "--role", role, "--password-stdin"],
        input="Correct-Horse-Battery-Staple-9\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_run_list_show_and_signoff_from_the_terminal(home: Path) -> None:
    _user(home, "tess", "technical_lead")
    _user(home, "fred", "first_level_support")
    out = ok(home, "procedures", "run", "daily-health", "--as", "tess")
    assert "automated steps stay pending" in out and "Run 1 of daily-health" in out

    listing = json.loads(ok(home, "procedures", "list", "--json"))
    health = next(p for p in listing["today"] if p["name"] == "daily-health")
    assert health["run"]["id"] == 1 and health["state"] in ("running", "overdue")
    assert [r["id"] for r in listing["runs"]] == [1]

    shown = json.loads(ok(home, "procedures", "show", "1", "--json"))
    assert [s["result"] for s in shown["steps"]] == ["pending"] * 7
    review = shown["steps"][-1]
    assert review["name"] == "review" and "technical_lead" in review["signoff_roles"]

    code, _, err = run(home, "procedures", "signoff", "1", "review", "--as", "fred", "--note", "ok")
    assert code == 2 and "Traceback" not in err
    assert "may not sign off step 'review'" in " ".join(err.split())
    code, _, err = run(home, "procedures", "signoff", "1", "99", "--as", "tess")
    assert code == 2 and "has no step 99" in " ".join(err.split())

    out = ok(home, "procedures", "signoff", "1", "6", "--as", "tess", "--note", "Reviewed")
    assert "signed by tess" in out
    after = json.loads(ok(home, "procedures", "show", "1", "--json"))
    signed = after["steps"][-1]
    assert (signed["result"], signed["signed_by"], signed["note"]) == ("signed", "tess", "Reviewed")
    assert len(signed["evidence_sha256"]) == 64
    audit = ok(home, "audit", "show", "--action", "procedure.step.signoff")
    assert "tess" in audit
