"""`fictra users add | list | disable | token` as a user runs them (subprocess, real exit codes)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from fictra.auth.models import ApiToken, User
from fictra.auth.policy import digest
from fictra.db.engine import make_engine, session_factory

from .conftest import REPO

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def fictra(
    data_dir: Path, *args: str, stdin: str | None = None, columns: int = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FICTRA_DATABASE_URL", "FICTRA_CONFIG_DIR")}
    env.update(FICTRA_DATA_DIR=str(data_dir), COLUMNS=str(columns))  # narrow: secrets still on one line
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120,
        cwd=REPO,
    )  # fmt: skip


def _rows(data_dir: Path) -> tuple[list[User], list[ApiToken]]:
    async def read() -> tuple[list[User], list[ApiToken]]:
        engine = make_engine(f"sqlite:///{data_dir / 'fictra.db'}")
        try:
            async with session_factory(engine)() as db:
                users = list((await db.execute(select(User).order_by(User.username))).scalars())
                tokens = list((await db.execute(select(ApiToken))).scalars())
                return users, tokens
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_users_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """add, token and list as separate processes (as a user runs them); the rest in-process (fast)."""
    data = tmp_path / "data"
    added = fictra(data, "users", "add", "alice", "--role", "technical_lead", "--role", "viewer")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.strip().splitlines()
    assert lines[0] == "Added user 'alice' with role(s) technical_lead, viewer."
    assert lines[1].startswith("One-time password (shown once; change it at first login): ")
    one_time = lines[1].rsplit(" ", 1)[1]
    _env(monkeypatch, data)
    code, err = _in_process(
        monkeypatch,
        capsys,
        "users",
        "add",
        "bob",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="a long enough pw\n",
    )
    assert code == 0, err
    assert _in_process(monkeypatch, capsys, "users", "disable", "bob")[0] == 0

    token = fictra(data, "users", "token", "alice", "--scope", "alerts.read", "--expires", "30d")
    assert token.returncode == 0, token.stderr
    raw = token.stdout.strip().splitlines()[-1]
    assert raw.startswith("fictra_")
    listed = fictra(data, "users", "list", columns=200)
    assert listed.returncode == 0
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if line.startswith("│")}
    assert "technical_lead, viewer" in rows["alice"] and "active" in rows["alice"]
    assert "viewer" in rows["bob"] and "disabled" in rows["bob"]

    users, tokens = _rows(data)
    assert [(u.username, u.disabled, u.must_change_password) for u in users] == [
        ("alice", False, True),
        ("bob", True, False),
    ]
    assert one_time not in users[0].password_hash and users[0].password_hash.startswith("$argon2id$")
    [tok] = tokens
    assert tok.token_hash == digest(raw) and tok.scopes == ["alerts.read"]


def _env(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("FICTRA_DATA_DIR", str(data))
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.delenv("FICTRA_CONFIG_DIR", raising=False)


def _in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = ""
) -> tuple[int, str]:
    """``fictra ARGS`` in this process (fast): exit code and stderr."""
    import io

    from fictra.cli import main

    monkeypatch.setattr(sys, "argv", ["fictra", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as done:
        main()
    return int(done.value.code or 0), capsys.readouterr().err


def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _env(monkeypatch, data)
    code, _ = _in_process(monkeypatch, capsys, "users", "add", "alice", "--role", "viewer")
    assert code == 0
    cases = [
        (("users", "add", "alice", "--role", "viewer"), "", "error: User 'alice' already exists."),
        (("users", "add", "Bob", "--role", "viewer"), "", "error: User name 'Bob' is not valid"),
        (
            ("users", "add", "bob", "--role", "wizard"),
            "",
            "error: Unknown role 'wizard'. Roles (config/roles.yaml)",
        ),
        (
            ("users", "add", "bob", "--role", "viewer", "--password-stdin"),
            "\n",
            "error: The password is empty.",
        ),
        (
            ("users", "add", "bob", "--role", "viewer", "--password-stdin"),
            "short\n",
            "error: The password has 5",
        ),
        (("users", "disable", "zed"), "", "error: No user 'zed'. List them with `fictra users list`."),
        (
            ("users", "token", "alice", "--scope", "users.manage"),
            "",
            "error: User 'alice' (roles viewer) does not",
        ),
        (
            ("users", "token", "alice", "--scope", "alerts.read", "--expires", "soon"),
            "",
            "error: Expiry 'soon'",
        ),
        (("users", "token", "zed", "--scope", "alerts.read"), "", "error: No user 'zed'."),
    ]
    for args, stdin, message in cases:
        code, err = _in_process(monkeypatch, capsys, *args, stdin=stdin)
        assert code == 2, (args, err)
        assert err.startswith(message), (args, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    users, _ = _rows(data)
    assert [u.username for u in users] == ["alice"]  # nothing half-created
