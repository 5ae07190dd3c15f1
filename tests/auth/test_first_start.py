"""First start of `fictra up`: an admin with a one-time password printed to the terminal and never
written to the log; later starts create nobody."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.bootstrap import ensure_admin
from fictra.auth.models import User
from fictra.auth.passwords import verify_password
from fictra.auth.permissions import RoleMap
from fictra.chain.manifest import Manifest
from fictra.clock import FakeClock
from fictra.devnet.anvil import AnvilNode

PROMPT = "First start: user 'admin', one-time password: "


@pytest.mark.slow
def test_up_prints_the_admin_password_once_and_never_logs_it(tmp_path: Path, anvil: AnvilNode) -> None:
    config = tmp_path / "config"
    config.mkdir()
    network = {
        "name": "staging",
        "chain_id": 31337,
        "manifest": "manifest.json",
        "endpoints": [{"name": "primary", "url": anvil.rpc_url}],
    }
    (config / "network.yaml").write_text(yaml.safe_dump(network))
    Manifest(chain_id=31337, rpc_url=anvil.rpc_url, contracts={}).save(config / "manifest.json")
    env = {
        **{k: v for k, v in os.environ.items() if k != "FICTRA_DATABASE_URL"},
        "FICTRA_DATA_DIR": str(tmp_path / "data"),
        "FICTRA_CONFIG_DIR": str(config),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fictra.cli",
            "up",
            "--no-view",
            "--no-devnet",
            "--no-http",
            "--duration",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith(PROMPT)]
    password = line.removeprefix(PROMPT).split(" ")[0]
    assert len(password) >= 16
    log = tmp_path / "data" / "fictra.log"
    assert log.is_file()
    everything = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert password.encode() not in everything  # not in the log, nor in the database (only its hash)
    assert password not in result.stderr


async def test_ensure_admin_only_when_there_are_no_users(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    password = await ensure_admin(sessions, clock=clock, role_map=roles)
    assert password is not None
    assert await ensure_admin(sessions, clock=clock, role_map=roles) is None
    async with sessions() as db:
        [admin] = (await db.execute(select(User))).scalars().all()
    assert admin.username == "admin" and admin.roles == ["admin"] and admin.must_change_password
    assert verify_password(admin.password_hash, password)
