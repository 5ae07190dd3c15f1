"""`fictra users unlock NAME`: clears the login locks an attacker's client put on a user; `users list` shows
them first; the unlock is audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from fictra.audit.models import AuditEntry
from fictra.auth.policy import Source
from fictra.auth.service import login
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, session_factory
from fictra.errors import AuthenticationError

from .test_users_cli import _env, _in_process, fictra

PASSWORD = "a long enough pw"
ATTACKER = Source("203.0.113.9", "curl")


async def _attempts(url: str, password: str) -> str:
    engine = make_engine(url)
    try:
        try:
            return (
                await login(
                    session_factory(engine),
                    username="carol",
                    password=password,
                    source=ATTACKER,
                    clock=SystemClock(),
                )
            ).username
        except AuthenticationError:
            return "refused"
    finally:
        await engine.dispose()


async def _actions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as db:
            return list((await db.execute(select(AuditEntry.action).order_by(AuditEntry.idx))).scalars())
    finally:
        await engine.dispose()


def test_unlock_clears_a_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _env(monkeypatch, data)
    monkeypatch.setenv("COLUMNS", "200")
    code, err = _in_process(
        monkeypatch,
        capsys,
        "users",
        "add",
        "carol",
        "--role",
        "viewer",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert code == 0, err
    url = f"sqlite:///{data / 'fictra.db'}"
    for _ in range(5):
        assert asyncio.run(_attempts(url, "wrong wrong wrong")) == "refused"
    assert asyncio.run(_attempts(url, PASSWORD)) == "refused"  # locked from this client
    listed = fictra(data, "users", "list", columns=200)
    assert listed.returncode == 0 and "locked from a client until" in listed.stdout, listed.stdout
    code, err = _in_process(monkeypatch, capsys, "users", "unlock", "carol", "--reason", "me, typing")
    assert code == 0, err
    assert asyncio.run(_attempts(url, PASSWORD)) == "carol"
    assert "user.unlock" in asyncio.run(_actions(url))
    code, err = _in_process(monkeypatch, capsys, "users", "unlock", "nobody")
    assert code == 2 and "No user 'nobody'" in err
