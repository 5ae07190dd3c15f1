"""`fictra maintenance ...` as a user runs it (subprocess, own data dir): a weekly RRULE window in a time
zone created by a user with maintenance.manage, an invalid RRULE refused with one line (exit 2, nothing
written: the list holds one window), list --json. Three subprocesses only (each imports the CLI): the
overlap refusal, cancel and the permission check are the service's, tested in test_service.py and through
the console (tests/changes/test_pages.py) and `fictra changes` (tests/changes/test_cli.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from cli.clirun import fictra
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[2]
WEEKLY = ["--title", "Node upgrade", "--scope", 'endpoint="local"', "--owner", "tom", "--start",
          "2030-01-06T04:00", "--duration", "60", "--tz", "Europe/Zurich", "--rrule",
          "FREQ=WEEKLY;BYDAY=SU"]  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    url = f"sqlite:///{tmp_path / 'data' / 'fictra.db'}"
    (tmp_path / "data").mkdir()
    migrate(url)

    async def users() -> None:
        engine = make_engine(url)
        roles = load_roles(tmp_path / "config" / "roles.yaml")
        try:
            async with session_factory(engine).begin() as db:
                for name, role in (("tom", "operations_manager"),):
                    await create_user(db, username=name, roles=[role], password="Correct-Horse-Battery-9",
                                      role_map=roles, actor=SYSTEM, clock=SystemClock())  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(users())
    return tmp_path


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "FICTRA_CONFIG_DIR": str(home / "config"),
        "FICTRA_DATABASE_URL": f"sqlite:///{home / 'data' / 'fictra.db'}",
    }
    result = fictra(home / "data", "maintenance", *args, cwd=home, env=env)
    return result.returncode, result.stdout, " ".join(result.stderr.split())


def test_create_refuse_and_list_from_the_terminal(home: Path) -> None:
    code, out, err = run(home, "create", "--as", "tom", *WEEKLY)
    assert code == 0, err
    assert "Maintenance window 1 [scheduled] scheduled: Node upgrade" in out
    assert "(2030-01-06T03:00:00Z)" in out  # 04:00 in Zurich in winter
    code, out, err = run(home, "create", "--as", "tom", *WEEKLY[:-1], "FREQ=FORTNIGHTLY")
    assert code == 2 and "Traceback" not in err and "FORTNIGHTLY" in err, err
    code, out, err = run(home, "list", "--json")
    assert code == 0, err
    [window] = json.loads(out)
    assert window["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and window["timezone"] == "Europe/Zurich"
