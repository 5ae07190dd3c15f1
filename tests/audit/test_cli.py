"""`fictra audit ...` as a user runs it: a subprocess, real exit codes, one-line errors."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fictra.audit.signing import load_signer
from fictra.cli import audit
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate
from fictra.errors import ChainError, ConflictError, NotFoundError, UsageError

from .helpers import seed, sql

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def fictra(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FICTRA_")}
    full = {**base, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=full, capture_output=True, text=True, timeout=120
    )


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _populate(data: Path, n: int) -> str:
    url = f"sqlite:///{data / 'fictra.db'}"
    migrate(url)

    async def go() -> None:
        engine = make_engine(url)
        try:
            await seed(engine, FakeClock(), n)
        finally:
            await engine.dispose()

    asyncio.run(go())
    return url


def _tamper(url: str, statement: str) -> None:
    async def go() -> None:
        engine = make_engine(url)
        try:
            await sql(engine, statement)
        finally:
            await engine.dispose()

    asyncio.run(go())


def test_exit_codes_and_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """0 intact, 1 tampered (naming the first bad index), 2 cannot check; errors on one line."""
    data = tmp_path / "data"
    url = _populate(data, 6)
    ok = fictra(data, "audit", "verify", "--no-anchor")
    assert ok.returncode == 0 and ok.stdout.strip() == (
        "audit log intact: 6 entries, 0 checkpoints verified (seals not checked: no audit key)"
    )
    monkeypatch.setenv("FICTRA_DATABASE_URL", url)
    monkeypatch.setenv("FICTRA_DATA_DIR", str(data))
    monkeypatch.setenv("FICTRA_AUDIT_KEY_PASSPHRASE", "right")
    made = CliRunner().invoke(audit.app, ["checkpoint"])
    assert made.exit_code == 0 and made.stdout.startswith("checkpoint #1: tree size 6, root "), made.output
    key = data / "keys" / "audit-signing.json"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and "right" not in key.read_text()
    unsealed = fictra(data, "audit", "verify", env={"FICTRA_AUDIT_KEY_PASSPHRASE": "right"})
    assert unsealed.returncode == 1 and "first bad index 0: Entry 0 carries no seal" in unsealed.stdout
    sealed = CliRunner().invoke(audit.app, ["seal"])  # the log from before seals: sealed once, audited
    assert sealed.exit_code == 0 and sealed.stdout.strip() == "sealed 6 entries", sealed.output
    _tamper(url, "UPDATE audit_entries SET reason = 'edited' WHERE idx = 3")
    bad = fictra(data, "audit", "verify", env={"FICTRA_AUDIT_KEY_PASSPHRASE": "right"})
    assert bad.returncode == 1, bad.stderr
    first = bad.stdout.strip().splitlines()[0]
    assert first.startswith("audit log TAMPERED — first bad index 3: Entry 3 was modified"), first
    assert "Traceback" not in bad.stderr
    wrong = fictra(data, "audit", "checkpoint", env={"FICTRA_AUDIT_KEY_PASSPHRASE": "wrong"})
    _one_line_error(wrong, 2, "wrong passphrase")
    assert "right" not in wrong.stderr


def test_generated_passphrase_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    _populate(data, 2)
    monkeypatch.delenv("FICTRA_AUDIT_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.setenv("FICTRA_DATA_DIR", str(data))
    made = CliRunner().invoke(audit.app, ["checkpoint"])
    assert made.exit_code == 0, made.output
    key, passfile = data / "keys" / "audit-signing.json", data / "keys" / "audit-signing.pass"
    for path in (key, passfile):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passphrase = passfile.read_text().strip()
    assert len(passphrase) >= 32 and passphrase not in key.read_text() and passphrase not in made.output
    load_signer(data)  # reloads with the file's passphrase


def test_show_prove_consistency_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.delenv("FICTRA_AUDIT_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("FICTRA_DATA_DIR", str(data))
    runner = CliRunner()
    migrate(f"sqlite:///{data / 'fictra.db'}")
    empty = runner.invoke(audit.app, ["checkpoint"])
    assert empty.exit_code == 0 and empty.stdout.strip() == "The audit log is empty; no checkpoint made."
    assert runner.invoke(audit.app, ["show"]).stdout.strip() == "No audit entries match."
    _populate(data, 4)
    assert runner.invoke(audit.app, ["checkpoint"]).exit_code == 0
    _populate(data, 3)  # entries 4..6 (a second seeding continues the chain)
    assert runner.invoke(audit.app, ["checkpoint"]).stdout.startswith("checkpoint #2: tree size 7")
    shown = runner.invoke(audit.app, ["show", "--action", "silence.*", "--json"])
    indices = [json.loads(line)["index"] for line in shown.stdout.splitlines()]
    assert indices == [4, 3, 0], shown.stdout  # seeds i = 0..3, then 0..2: silence.create when i % 3 == 0
    older = runner.invoke(audit.app, ["show", "--before", "2"]).stdout.strip().splitlines()
    assert [line.split()[0] for line in older] == ["1", "0"]
    proof = runner.invoke(audit.app, ["prove", "2", "--tree-size", "4", "--json"])
    doc = json.loads(proof.stdout)
    assert proof.exit_code == 0 and doc["valid"] and doc["tree_size"] == 4 and len(doc["path"]) == 2
    text = runner.invoke(audit.app, ["consistency", "4", "7"])
    assert text.exit_code == 0 and text.stdout.strip().endswith("consistent"), text.stdout
    missing = runner.invoke(audit.app, ["consistency", "4", "6"])
    assert isinstance(missing.exception, NotFoundError)
    assert "No audit checkpoint of tree size 6. Checkpoint sizes: 4, 7." in missing.exception.user_message
    backwards = runner.invoke(audit.app, ["consistency", "7", "4"])
    assert isinstance(backwards.exception, ConflictError)
    negative = runner.invoke(audit.app, ["prove", "--", "-1"])
    assert isinstance(negative.exception, UsageError)
    report = runner.invoke(audit.app, ["verify", "--json"])
    assert report.exit_code == 0 and json.loads(report.stdout)["checkpoints"] == 2
    no_devnet = runner.invoke(audit.app, ["anchor"])
    assert isinstance(no_devnet.exception, UsageError) and "No devnet is running" in str(no_devnet.exception)
    unreachable = runner.invoke(audit.app, ["anchor", "--rpc-url", "http://127.0.0.1:9"])
    assert isinstance(unreachable.exception, ChainError)
    assert "Cannot reach the chain at http://127.0.0.1:9" in unreachable.exception.user_message
