"""`fictra changes ...` as a user runs it (subprocess, own data dir): a change from a YAML file, submitted
and assessed with the questionnaire's answers up to authorization, an approval refused for a user without
changes.approve and for the requester, approvals by hash prefix, an edit voiding them, a refusal naming
what is missing (exit 2, one line, no traceback), and list/show --json."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli.clirun import CLI, fictra

from .conftest import fee_change

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    return tmp_path


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = fictra(home / "data", *args, cwd=home, env={"FICTRA_CONFIG_DIR": str(home / "config")})
    return result.returncode, result.stdout, " ".join(result.stderr.split())


def ok(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 0, (out, err)
    return out


def refused(home: Path, *args: str) -> str:
    code, out, err = run(home, *args)
    assert code == 2 and "Traceback" not in err, (out, err)
    return err


def _user(home: Path, name: str, role: str) -> None:
    env = {"FICTRA_DATA_DIR": str(home / "data"), "FICTRA_CONFIG_DIR": str(home / "config"),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CLI, "users", "add", name, "--role", role, "--password-stdin"],
        input="Correct-Horse-Battery-Staple-9\n", capture_output=True, text=True, env=env, cwd=home,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def show(home: Path, change_id: int) -> dict[str, object]:
    data: dict[str, object] = json.loads(ok(home, "changes", "show", str(change_id), "--json"))
    return data


def test_request_assess_approve_edit_from_the_terminal(home: Path) -> None:
    for name, role in (("rita", "technical_lead"), ("tom", "technical_lead"), ("sam", "system_architect"),
                       ("olga", "operations_manager"), ("fred", "first_level_support")):  # fmt: skip
        _user(home, name, role)
    content = fee_change().model_dump(mode="json")
    (home / "change.yaml").write_text(yaml.safe_dump(content))

    assert "lacks changes.request" in refused(home, "changes", "new", "--as", "fred", "-f", "change.yaml")
    out = ok(home, "changes", "new", "--as", "rita", "-f", "change.yaml")
    assert "Change 1 [draft] normal protocol_parameter" in out and "not connected" in out
    (home / "bad.yaml").write_text(yaml.safe_dump({**content, "components": ["Nope"]}))
    assert "Unknown component(s) Nope" in refused(home, "changes", "new", "--as", "rita", "-f", "bad.yaml")

    err = refused(home, "changes", "submit", "1", "--as", "rita", "--answer", "touches_funds=maybe")
    assert "give ID=yes or ID=no" in err
    out = ok(home, "changes", "submit", "1", "--as", "rita", "--answer", "touches_funds=no",
             "--answer", "irreversible=no", "--answer", "untested=no")  # fmt: skip
    assert "Change 1 [authorization]" in out and "approvals: missing technical_lead" in out
    detail = show(home, 1)
    h1 = str(detail["content_hash"])
    assert detail["risk"] == "high"

    assert "lacks changes.approve" in refused(home, "changes", "approve", "1", "--as", "fred", "--hash", h1)
    err = refused(home, "changes", "approve", "1", "--as", "rita", "--hash", h1)
    assert "requester cannot approve" in err
    ok(home, "changes", "approve", "1", "--as", "sam", "--hash", h1[:12])
    out = ok(home, "changes", "approve", "1", "--as", "tom", "--hash", h1)
    assert "approvals: missing operations_manager" in out

    (home / "change.yaml").write_text(yaml.safe_dump({**content, "description": "v2"}))
    out = ok(home, "changes", "edit", "1", "--as", "rita", "-f", "change.yaml")
    assert out.count("(void: edited)") == 2
    err = refused(home, "changes", "approve", "1", "--as", "olga", "--hash", h1)
    assert "content changed" in err

    err = refused(home, "changes", "schedule", "1", "--as", "rita")
    assert "cannot schedule: approvals missing: technical_lead, system_architect, operations_manager" in err
    err = refused(home, "changes", "move", "1", "start", "--as", "rita")
    assert "'start' is not possible; possible: schedule, cancel" in err

    listing = json.loads(ok(home, "changes", "list", "--json"))
    assert [(c["id"], c["state"]) for c in listing] == [(1, "authorization")]
    ok(home, "changes", "cancel", "1", "--as", "rita", "--reason", "superseded")
    assert show(home, 1)["state"] == "canceled"
