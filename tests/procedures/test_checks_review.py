"""The comprehensive audit's and the performance analysis's checks on a real database (SQLite,
PostgreSQL): inclusion proofs against the latest checkpoint, the permission review (a disabled user still
holding a token fails it), config drift against git HEAD and against a baseline, the keystore inventory
(wrong address, loose mode, missing file) and the period-over-period performance numbers."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.seal import forget, register
from fictra.audit.service import record
from fictra.audit.signing import load_signer
from fictra.auth.models import ApiToken, User
from fictra.chain.keystore import create_keystore
from fictra.clock import FakeClock
from fictra.jobs.models import JobRun
from fictra.procedures.checks import CheckContext, run_check
from fictra.series.models import SeriesSample

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    register(database_url=database_url, data_dir=path)
    yield path
    forget(database_url)


def ctx(sessions: async_sessionmaker[AsyncSession], **kw: object) -> CheckContext:
    return CheckContext(sessions=sessions, clock=FakeClock(NOW), **kw)  # type: ignore[arg-type]


async def test_audit_proofs(sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> None:
    clock = FakeClock(NOW - timedelta(hours=1))
    async with sessions() as s, s.begin():
        for i in range(40):
            await record(s, actor="t", action="test.write", target=f"x:{i}", clock=clock)
        await create_checkpoint(s, signer=load_signer(data_dir), clock=clock)
    result = await run_check("audit_proofs", ctx=ctx(sessions, data_dir=data_dir), params={"sample": 8})
    assert result.ok, result.summary
    indices = [p["index"] for p in result.data["proofs"]]
    assert indices[0] == 0 and indices[-1] == 39 and len(indices) == 8
    assert "8/8 inclusion proofs valid" in result.summary


async def test_permission_review(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        people = [
            User(username="root", password_hash="x", roles=["admin"], created_at=NOW),
            User(username="ana", password_hash="x", roles=["viewer", "technical_lead"], created_at=NOW),
            User(username="gone", password_hash="x", roles=["viewer"], created_at=NOW, disabled=True),
        ]
        s.add_all(people)
        await s.flush()
        for i, (who, scopes) in enumerate([(people[0], ["*"]), (people[2], ["alerts.read"])]):
            s.add(
                ApiToken(
                    token_hash=f"{i:064d}",
                    prefix=f"ftk_{i}",
                    user_id=who.id,
                    scopes=scopes,
                    created_at=NOW,
                    expires_at=NOW + timedelta(days=30),
                )
            )
    result = await run_check("permission_review", ctx=ctx(sessions), params={})
    assert not result.ok
    assert result.data["admins"] == ["root"]
    assert result.data["by_role"]["viewer"] == ["ana", "gone"]
    assert result.data["wildcard_tokens"] == [{"user": "root", "prefix": "ftk_0"}]
    assert result.data["disabled_holding"] == [{"user": "gone", "tokens": 1, "sessions": 0}]
    assert "disabled users still holding tokens or sessions: gone" in result.summary


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


async def test_config_drift_git(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    config = repo / "config"
    (config / "monitors").mkdir(parents=True)
    (config / "network.yaml").write_text("a: 1\n")
    (config / "monitors" / "gas.yaml").write_text("b: 2\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    clean = await run_check("config_drift", ctx=ctx(sessions, config_dir=config), params={})
    assert clean.ok, clean.summary
    assert "2 config files as in git HEAD" in clean.summary
    (config / "monitors" / "gas.yaml").write_text("b: 3\n")
    (config / "extra.yaml").write_text("c: 1\n")
    (config / "network.yaml").unlink()
    drift = await run_check("config_drift", ctx=ctx(sessions, config_dir=config), params={})
    assert not drift.ok
    assert (drift.data["changed"], drift.data["added"], drift.data["missing"]) == (
        ["monitors/gas.yaml"],
        ["extra.yaml"],
        ["network.yaml"],
    )


async def test_config_drift_baseline(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    config = tmp_path / "plain" / "config"
    config.mkdir(parents=True)
    (config / "network.yaml").write_text("a: 1\n")
    none = await run_check("config_drift", ctx=ctx(sessions, config_dir=config), params={})
    assert none.ok and none.summary.startswith("no baseline")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"network.yaml": hashlib.sha256(b"a: 2\n").hexdigest()}))
    drift = await run_check(
        "config_drift", ctx=ctx(sessions, config_dir=config), params={"baseline": str(baseline)}
    )
    assert not drift.ok and drift.data["changed"] == ["network.yaml"]


async def test_keystores(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    key = "0x" + "11" * 32
    good = create_keystore(
        tmp_path / "guardian.json",
        SecretStr(key),
        SecretStr("test-passphrase"),
        kdf="pbkdf2",
        iterations=1000,
    )
    loose = tmp_path / "loose.json"
    loose.write_text((tmp_path / "guardian.json").read_text())
    loose.chmod(0o644)
    refs = [
        ("guardian", tmp_path / "guardian.json", good.address),
        ("wrong", tmp_path / "guardian.json", "0x" + "22" * 20),
        ("loose", loose, None),
        ("missing", tmp_path / "none.json", None),
    ]
    result = await run_check("keystores", ctx=ctx(sessions, signer_paths=lambda: refs), params={})
    assert not result.ok
    problems = {r["signer"]: r["problems"] for r in result.data["keystores"]}
    assert problems["guardian"] == []
    assert "expected 0x2222" in problems["wrong"][0]
    assert problems["loose"] == ["mode 0644, expected 0600"]
    assert "does not exist" in problems["missing"][0]
    only_good = await run_check("keystores", ctx=ctx(sessions, signer_paths=lambda: refs[:1]), params={})
    assert only_good.ok, only_good.summary
    assert not (await run_check("keystores", ctx=ctx(sessions), params={})).ok


async def test_performance_periods(sessions: async_sessionmaker[AsyncSession]) -> None:
    def block_t(days_ago: float) -> int:
        return int((NOW - timedelta(days=days_ago)).timestamp())

    async with sessions() as s, s.begin():
        for number, days_ago, txs, reverted in [(10, 10, 100, 1), (20, 2, 50, 5), (21, 1, 50, 5)]:
            t = block_t(days_ago)
            s.add_all(
                [
                    SeriesSample(network="devnet", name="tx_count", block_number=number, t=t, value=txs),
                    SeriesSample(
                        network="devnet", name="tx_reverted", block_number=number, t=t, value=reverted
                    ),
                    SeriesSample(
                        network="devnet", name="block_interval_s", block_number=number, t=t, value=2.0
                    ),
                ]
            )
        for ago, outcome, dur in [(1.0, "ok", 2.0), (1.5, "failed", 4.0), (9.0, "ok", 1.0)]:
            at = NOW - timedelta(days=ago)
            s.add(
                JobRun(
                    job="backup.daily",
                    due_at=at,
                    holder="h",
                    started_at=at,
                    outcome=outcome,
                    duration_seconds=dur,
                )
            )
    fired_at = datetime.fromtimestamp(block_t(2) + 12, tz=UTC)
    finding = Finding(
        monitor="m",
        severity=Severity.P2,
        summary="s",
        labels={"k": "v"},
        block=BlockRef(20, "0x" + "ab" * 32),
    )
    async with sessions() as s, s.begin():
        await apply_findings(s, [finding], head=None, clock=FakeClock(fired_at))
    result = await run_check(
        "performance", ctx=ctx(sessions), params={"days": 7, "max_job_failure_share": 0.25}
    )
    now, before = result.data["period"], result.data["previous"]
    assert now["block_to_alert_s"] == {"alerts": 1, "mean": 12.0, "p95": 12.0}
    assert (now["blocks_followed"], before["blocks_followed"]) == (2, 1)
    assert (now["transactions"], before["transactions"]) == (100, 100)
    assert now["reverted_share"] == pytest.approx(0.1) and before["reverted_share"] == pytest.approx(0.01)
    assert (now["job_runs"], now["job_failure_share"], before["job_failure_share"]) == (2, 0.5, 0.0)
    assert now["job_mean_duration_s"] == {"backup.daily": 3.0}
    assert not result.ok and "job failure share above 25%" in result.summary
    assert (await run_check("performance", ctx=ctx(sessions), params={"days": 7})).ok
