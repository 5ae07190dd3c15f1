"""`fictra actions ...` and `fictra keystore ...`: in-process through typer, plus real subprocesses for
the exit code, the one-line error and what reaches stderr; dry run and execute against a devnet."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cli.clirun import CLI
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.chain.manifest import Manifest
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.accounts import one
from fictra.emergency.keystore import write_devnet_keystores
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-Battery-Staple-9"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Invoke = Callable[..., Result]


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    url = load_settings(data_dir=data).resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    roles = load_roles(REPO / "config" / "roles.yaml")
    async with session_factory(engine).begin() as db:
        people = {
            "sam": "security_officer",
            "lee": "technical_lead",
            "olga": "operations_manager",
            "vic": "viewer",
        }
        for name, role in people.items():
            await create_user(
                db, username=name, roles=[role], password=PASSWORD, role_map=roles, actor=SYSTEM,
                clock=SystemClock(),
            )  # fmt: skip
    await engine.dispose()
    return data


@pytest.fixture
def run(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    from typer.testing import CliRunner

    from fictra.cli import app
    from fictra.errors import FictraError

    monkeypatch.setenv("FICTRA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FICTRA_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(app, list(args))
        if isinstance(result.exception, FictraError):
            return Result(result.exception.exit_code, result.stdout, result.exception.user_message)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, "")

    return invoke


def fictra(data_dir: Path, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """`fictra ARGS` in a subprocess, with ``input_text`` on stdin (a pipe: how secrets are given)."""
    base = {k: v for k, v in os.environ.items() if k not in ("FICTRA_DATABASE_URL", "FICTRA_CONFIG_DIR")}
    env = {**base, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=120,
        input=input_text or "",
    )  # fmt: skip


def _hash(stdout: str) -> str:
    found = re.search(r"hash ([0-9a-f]{64})", stdout)
    assert found, stdout
    return found.group(1)


def _id(stdout: str) -> str:
    found = re.search(r"Action (\d+) ", stdout)
    assert found, stdout
    return found.group(1)


def test_propose_and_approve_from_the_terminal(run: Invoke) -> None:
    r = run("actions", "kinds")
    assert r.returncode == 0 and "unpause_all" in r.stdout and "including operations_manager" in r.stdout
    r = run("actions", "propose", "pause_all", "--as", "sam", "--reason", "drain")
    assert r.returncode == 0, r.stderr
    assert "[approved]" in r.stdout and "approval #1 sam (security_officer)" in r.stdout
    r = run("actions", "propose", "unpause_all", "--as", "lee")
    action, digest = _id(r.stdout), _hash(r.stdout)
    r = run("actions", "approve", action, "--hash", "0" * 64, "--as", "olga")
    assert r.returncode == 2 and "parameters changed" in r.stderr
    r = run("actions", "approve", action, "--hash", digest, "--as", "vic")
    assert r.returncode == 2 and "'vic' cannot approve unpause_all" in r.stderr
    r = run("actions", "approve", action, "--hash", digest, "--as", "nobody")
    assert r.returncode == 2 and "nobody" in r.stderr
    r = run("actions", "approve", action, "--hash", digest, "--as", "olga")
    assert r.returncode == 0 and "[approved]" in r.stdout
    r = run("actions", "propose", "isolate", "--param", "bogus", "--as", "lee")
    assert r.returncode == 2 and "--param 'bogus' is not KEY=VALUE" in r.stderr
    r = run("actions", "list")
    assert r.returncode == 0 and "unpause_all" in r.stdout and "pause_all" in r.stdout
    r = run("actions", "show", action)
    assert r.returncode == 0 and "proposed" in r.stdout and "olga" in r.stdout


def test_keystore_create_and_check_keep_secrets_out_of_output(tmp_path: Path) -> None:
    key = one("guardian").private_key
    secret = tmp_path / "pass"
    secret.write_text("a-long-enough-passphrase\n")
    out = tmp_path / "guardian.json"
    r = fictra(tmp_path, "keystore", "create", "--role", "guardian", "--out", str(out), "--passphrase",
               f"file:{secret}", input_text=key + "\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert one("guardian").address in r.stdout
    r = fictra(tmp_path, "keystore", "check", str(out), "--passphrase", f"file:{secret}")
    assert r.returncode == 0 and "the passphrase decrypts it" in r.stdout
    wrong = tmp_path / "wrong"
    wrong.write_text("not-it-at-all\n")
    r = fictra(tmp_path, "keystore", "check", str(out), "--passphrase", f"file:{wrong}")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: Wrong passphrase for keystore '{out}' (the keystore signer): it does not decrypt with "
        f"--passphrase file:{wrong}. Check that secret."
    ]
    everything = r.stdout + r.stderr
    for value in (key, key[2:], "a-long-enough-passphrase", "not-it-at-all"):
        assert value not in everything
    r = fictra(tmp_path, "keystore", "check", str(tmp_path / "none.json"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_dry_run_and_execute_from_the_terminal(
    run: Invoke, data_dir: Path, rig_url: str, em_manifest: Manifest, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    manifest_file = tmp_path / "manifest.json"
    em_manifest.save(manifest_file)
    network = yaml.safe_load((config / "network.yaml").read_text())
    network["endpoints"] = [{"name": "local", "url": rig_url}]
    network["chain_id"] = em_manifest.chain_id
    network["manifest"] = str(manifest_file)
    (config / "network.yaml").write_text(yaml.safe_dump(network))
    emergency = yaml.safe_load((config / "emergency.yaml").read_text())
    emergency["confirmations"] = 0
    (config / "emergency.yaml").write_text(yaml.safe_dump(emergency))
    write_devnet_keystores(
        data_dir / "devnet" / "keys", {r: one(r).private_key for r in ("guardian", "proposer")}
    )
    monkeypatch.setenv("FICTRA_CONFIG_DIR", str(config))

    r = run("actions", "propose", "halt_trading", "--as", "sam")
    action = _id(r.stdout)
    r = run("actions", "execute", action, "--as", "sam")
    assert r.returncode == 2 and "has no dry run" in r.stderr
    r = run("actions", "dry-run", action, "--as", "sam")
    assert r.returncode == 0, r.stderr
    assert "EmergencyController.TradingHalted(" in r.stdout and "trading not halted" in r.stdout
    r = run("actions", "execute", action, "--as", "sam")
    assert r.returncode == 0, r.stderr
    assert "[verified]" in r.stdout and "tx EmergencyController.haltTrading(): confirmed 0x" in r.stdout

    # another caller started this one: the terminal hears "already executing" (exit 2), as the API's 409
    r = run("actions", "propose", "pause_all", "--as", "sam")
    second = _id(r.stdout)
    assert run("actions", "dry-run", second, "--as", "sam").returncode == 0
    db = load_settings(data_dir=data_dir).resolved_database_url().removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE emergency_actions SET status='executing', executed_by='lee' WHERE id=?", (second,)
        )
    r = run("actions", "execute", second, "--as", "sam")
    assert r.returncode == 2 and f"Action {second} is already executing" in r.stderr, r.stderr
    assert "started by lee" in r.stderr
