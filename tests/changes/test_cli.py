"""`fictra changes ...` as a user runs it (subprocess, own data dir): a change from a YAML file, submitted
and assessed with the questionnaire's answers up to authorization, an approval refused for a user without
changes.approve and for the requester, approvals by hash prefix, an edit voiding them, a refusal naming
what is missing (exit 2, one line, no traceback), and list/show --json."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
import yaml

from cli.clirun import fictra
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory

from .conftest import fee_change

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-Battery-Staple-9"


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


def _users(home: Path, people: dict[str, str]) -> None:
    """The users in the data dir's database, made in-process (the CLI's `users add` is tested elsewhere;
    five more subprocesses with argon2 cost half a minute)."""
    url = f"sqlite:///{(home / 'data' / 'fictra.db').resolve()}"
    (home / "data").mkdir(exist_ok=True)
    migrate(url)

    async def make() -> None:
        engine = make_engine(url)
        roles = load_roles(home / "config" / "roles.yaml")
        try:
            async with session_factory(engine).begin() as db:
                for name, role in people.items():
                    await create_user(db, username=name, roles=[role], password=PASSWORD, role_map=roles,
                                      actor=SYSTEM, clock=SystemClock())  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(make())


def show(home: Path, change_id: int) -> dict[str, object]:
    data: dict[str, object] = json.loads(ok(home, "changes", "show", str(change_id), "--json"))
    return data


def test_request_assess_approve_edit_from_the_terminal(home: Path) -> None:
    _users(home, {"rita": "technical_lead", "tom": "technical_lead", "sam": "system_architect",
                  "olga": "operations_manager", "fred": "first_level_support"})  # fmt: skip
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
    doc = ok(home, "changes", "document", "1")
    assert doc.startswith("# Change request — #1: ") and "## Rollback plan" in doc
    assert "voided by an edit" in doc
