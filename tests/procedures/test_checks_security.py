"""The security log review's checks and the patch assessment on a real database (SQLite, PostgreSQL):
failed logins and lockouts, logins from new places, tokens near expiry, role grants from the roles
monitor's alerts, the audit log verified (a tampered entry fails it) and its checkpoint anchored or not;
installed packages against an OSV file (a made-up advisory for the installed croniter fails the step)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.models import AuditEntry
from fictra.audit.seal import forget, register
from fictra.audit.service import record
from fictra.audit.signing import load_signer
from fictra.auth.models import AccessAttempt, ApiToken, LoginThrottle, User
from fictra.clock import FakeClock
from fictra.procedures.checks import CheckContext, run_check

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Iterator[Path]:
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    register(database_url=database_url, data_dir=path)
    yield path
    forget(database_url)


def ctx(sessions: async_sessionmaker[AsyncSession], **kw: object) -> CheckContext:
    return CheckContext(sessions=sessions, clock=FakeClock(NOW), **kw)  # type: ignore[arg-type]


def user(name: str, **kw: object) -> User:
    return User(username=name, password_hash="x", roles=["viewer"], created_at=NOW - timedelta(days=90), **kw)


def attempt(name: str, at: datetime, *, ok: bool, ip: str, reason: str = "ok") -> AccessAttempt:
    return AccessAttempt(
        at=at, username=name, method="password", success=ok, reason=reason, source_ip=ip, details={}
    )


async def test_failed_logins_and_lockouts(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        s.add_all(
            [
                attempt("ana", NOW - timedelta(hours=h), ok=False, ip="10.0.0.9", reason="bad_password")
                for h in (1, 2, 3)
            ]
        )
        s.add(
            attempt("ana", NOW - timedelta(hours=30), ok=False, ip="10.0.0.9", reason="bad_password")
        )  # before
        s.add(
            LoginThrottle(
                scope="pair",
                key="ana|10.0.0.9",
                username="ana",
                failures=3,
                first_failed_at=NOW - timedelta(hours=3),
                last_failed_at=NOW - timedelta(hours=1),
                locked_until=NOW + timedelta(minutes=10),
                locks=1,
            )
        )
    quiet = await run_check(
        "login_failures", ctx=ctx(sessions), params={"max_failures": 5, "max_lockouts": 1}
    )
    assert quiet.ok, quiet.summary
    assert quiet.data["failed_logins"] == 3
    assert quiet.data["failed_by_user"] == [{"username": "ana", "reason": "bad_password", "count": 3}]
    strict = await run_check("login_failures", ctx=ctx(sessions), params={"max_failures": 2})
    assert not strict.ok
    assert "3 failed logins and 1 lockouts" in strict.summary


async def test_new_places(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        s.add(attempt("ana", NOW - timedelta(days=10), ok=True, ip="10.0.0.1"))
        s.add(attempt("ana", NOW - timedelta(hours=2), ok=True, ip="10.0.0.1"))  # known place
        s.add(attempt("ana", NOW - timedelta(hours=1), ok=True, ip="203.0.113.7"))  # new
        s.add(attempt("bo", NOW - timedelta(days=40), ok=True, ip="10.0.0.2"))  # older than 30 days
        s.add(attempt("bo", NOW - timedelta(hours=3), ok=True, ip="10.0.0.2"))  # so new again
        s.add(attempt("cy", NOW - timedelta(hours=3), ok=False, ip="198.51.100.1", reason="bad_password"))
    result = await run_check("new_places", ctx=ctx(sessions), params={})
    assert result.ok
    assert [(r["username"], r["source_ip"]) for r in result.data["new_places"]] == [
        ("ana", "203.0.113.7"),
        ("bo", "10.0.0.2"),
    ]
    assert not (await run_check("new_places", ctx=ctx(sessions), params={"fail_on_new": True})).ok


async def test_tokens_expiring(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        owner = user("ana")
        s.add(owner)
        await s.flush()
        for i, days in enumerate((3, 30, -1)):
            s.add(
                ApiToken(
                    token_hash=f"{i:064d}",
                    prefix=f"ftk_{i}",
                    user_id=owner.id,
                    scopes=["alerts.read"],
                    created_at=NOW - timedelta(days=60),
                    expires_at=NOW + timedelta(days=days),
                )
            )
        s.add(
            ApiToken(
                token_hash="9" * 64,
                prefix="ftk_rev",
                user_id=owner.id,
                scopes=["alerts.read"],
                created_at=NOW,
                expires_at=NOW + timedelta(days=2),
                revoked_at=NOW,
            )
        )
    result = await run_check("tokens_expiring", ctx=ctx(sessions), params={"days": 7})
    assert not result.ok
    assert [t["prefix"] for t in result.data["expiring"]] == ["ftk_0"]
    assert "ftk_0… of ana" in result.summary


async def test_role_changes_from_monitor_alerts(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(NOW - timedelta(hours=2))

    def grant(condition: str, account: str) -> Finding:
        labels = {
            "contract": "PaymentToken",
            "condition": condition,
            "role": "PAUSER_ROLE",
            "account": account,
        }
        return Finding(
            monitor="contract-status", severity=Severity.P1, summary=f"{condition} {account}", labels=labels
        )

    async with sessions() as s, s.begin():
        await apply_findings(s, [grant("role_granted", "0xaa")], head=None, clock=clock)
    c = ctx(sessions)
    ok = await run_check("role_changes", ctx=c, params={})
    assert ok.ok and ok.data["counts"]["role_granted"] == 1, ok.summary
    async with sessions() as s, s.begin():
        await apply_findings(s, [grant("unauthorized_role_grant", "0xbb")], head=None, clock=clock)
    bad = await run_check("role_changes", ctx=c, params={})
    assert not bad.ok
    assert bad.data["counts"]["unauthorized_role_grant"] == 1
    assert [e["account"] for e in bad.data["events"]] == ["0xaa", "0xbb"]
    later = await run_check("role_changes", ctx=ctx(sessions), params={"hours": 1})
    assert later.ok and later.data["events"] == []


async def _log(sessions: async_sessionmaker[AsyncSession], data_dir: Path, n: int = 5) -> None:
    clock = FakeClock(NOW - timedelta(hours=1))
    async with sessions() as s, s.begin():
        for i in range(n):
            await record(
                s, actor="tester", action="test.write", target=f"thing:{i}", after={"i": i}, clock=clock
            )
        await create_checkpoint(s, signer=load_signer(data_dir), clock=clock)


async def test_audit_log_verified_and_anchor(
    sessions: async_sessionmaker[AsyncSession], data_dir: Path
) -> None:
    await _log(sessions, data_dir)
    fine = await run_check("audit_log", ctx=ctx(sessions, data_dir=data_dir), params={})
    assert fine.ok, fine.summary
    assert fine.data["seals_checked"] and fine.data["checkpoints"] == 1
    assert "not anchored yet" in fine.summary  # a warning, not a failure
    assert not (
        await run_check("audit_log", ctx=ctx(sessions, data_dir=data_dir), params={"require_anchor": True})
    ).ok
    async with sessions() as s, s.begin():
        await s.execute(update(AuditEntry).where(AuditEntry.idx == 2).values(target="thing:forged"))
    tampered = await run_check("audit_log", ctx=ctx(sessions, data_dir=data_dir), params={})
    assert not tampered.ok
    assert "TAMPERED" in tampered.summary and "index 2" in tampered.summary


async def test_audit_log_without_seal_key(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    async with sessions() as s, s.begin():
        await record(s, actor="t", action="test.write", target="x:1", clock=FakeClock(NOW))
    result = await run_check("audit_log", ctx=ctx(sessions, data_dir=tmp_path), params={})
    assert result.ok
    assert "seals not checked" in result.summary
    assert "no checkpoint yet" in result.summary


def _croniter_advisory(path: Path) -> Path:
    version = metadata.version("croniter")
    path.write_text(
        json.dumps(
            [
                {
                    "id": "FICTRA-TEST-0001",
                    "summary": "made up for the test",
                    "affected": [
                        {
                            "package": {"ecosystem": "PyPI", "name": "Croniter"},
                            "ranges": [
                                {
                                    "type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": version + ".post1"}],
                                }
                            ],
                        }
                    ],
                },
                {
                    "id": "FICTRA-TEST-0002",
                    "summary": "exact npm version",
                    "affected": [
                        {"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.3.0"]}
                    ],
                },
                {
                    "id": "FICTRA-TEST-0003",
                    "summary": "fixed before ours",
                    "affected": [
                        {
                            "package": {"ecosystem": "PyPI", "name": "croniter"},
                            "ranges": [
                                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.1"}]}
                            ],
                        }
                    ],
                },
            ]
        )
    )
    return path


async def test_patch_assessment_matches(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    _croniter_advisory(tmp_path / "osv.json")
    (tmp_path / "package-lock.json").write_text(
        json.dumps(
            {
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "x"},
                    "node_modules/left-pad": {"version": "1.3.0"},
                    "node_modules/a/node_modules/b": {"version": "2.0.0"},
                },
            }
        )
    )
    result = await run_check(
        "patch_assessment", ctx=ctx(sessions, config_dir=config), params={"advisories": "osv.json"}
    )
    version = metadata.version("croniter")
    assert not result.ok
    assert [(m["package"], m["advisory"], m["fixed"]) for m in result.data["affected"]] == [
        ("croniter", "FICTRA-TEST-0001", version + ".post1"),
        ("left-pad", "FICTRA-TEST-0002", None),
    ]
    assert f"croniter {version} (PyPI): FICTRA-TEST-0001, fixed in {version}.post1" in result.summary


async def test_shipped_advisories_do_not_match(sessions: async_sessionmaker[AsyncSession]) -> None:
    result = await run_check("patch_assessment", ctx=ctx(sessions, config_dir=REPO / "config"), params={})
    assert result.ok, result.summary
    assert result.data["advisories"] >= 1 and result.data["python_packages"] > 10
    assert result.data["npm_packages"] > 0
    missing = await run_check(
        "patch_assessment", ctx=ctx(sessions, config_dir=REPO / "config"), params={"advisories": "nope.json"}
    )
    assert not missing.ok and "no advisory file" in missing.summary
