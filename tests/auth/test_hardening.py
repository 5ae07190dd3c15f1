"""Issue 11, authentication: the forced change of a one-time password holds for every credential (session,
API token, CLI-issued token); the password policy; a change ends the other sessions (and optionally the
tokens); throttling that an anonymous client cannot turn into a lock-out of a user; unknown users and
locked clients cost the same work as a wrong password; access attempts are rate-limited and pruned."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth import passwords
from fictra.auth.account import change_password, prune_attempts, unlock_user
from fictra.auth.actor import SYSTEM
from fictra.auth.models import AccessAttempt, ApiToken, AuthSession, User
from fictra.auth.permissions import RoleMap
from fictra.auth.policy import DEFAULT_POLICY, Source
from fictra.auth.service import LOGIN_FAILED, login, record_attempt
from fictra.auth.sessions import resolve_session
from fictra.auth.tokens import create_token
from fictra.clock import FakeClock
from fictra.errors import AuthenticationError, UsageError

from .conftest import PASSWORD, add_user
from .test_http import make_app

ATTACKER = Source("203.0.113.66", "curl")
ADMIN_DESK = Source("10.0.0.5", "firefox")
NEW_PASSWORD = "a much better passphrase"


@pytest.fixture
async def client(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(sqlite_sessions, roles, clock, username="root", role="admin")
    transport = httpx.ASGITransport(app=make_app(sqlite_sessions, roles, clock), client=("192.0.2.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _one_time_user(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
    created = await client.post(
        "/api/v1/users",
        json={"username": "sue", "roles": ["admin"]},
        headers={"X-CSRF-Token": r.json()["csrf_token"]},
    )
    client.cookies.clear()
    return str(created.json()["one_time_password"])


async def test_one_time_password_allows_nothing_but_the_change_on_a_session(
    client: httpx.AsyncClient,
) -> None:
    one_time = await _one_time_user(client)
    r = await client.post("/api/v1/auth/login", json={"username": "sue", "password": one_time})
    csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
    refused = await client.post("/api/v1/users", json={"username": "eve", "roles": ["admin"]}, headers=csrf)
    assert refused.status_code == 403
    assert "must change the one-time password first" in refused.json()["error"]["message"]
    token = await client.post(
        "/api/v1/users/sue/tokens", json={"scopes": ["*"], "expires_in": "1d"}, headers=csrf
    )
    assert token.status_code == 403
    assert (await client.get("/api/v1/users")).status_code == 403
    assert (await client.get("/api/v1/auth/me")).json()["must_change_password"] is True
    same = await client.post(
        "/api/v1/auth/password", json={"current_password": one_time, "new_password": one_time}, headers=csrf
    )
    assert same.status_code == 422 and "current one" in same.json()["error"]["message"]
    ok = await client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": NEW_PASSWORD},
        headers=csrf,
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/users")).status_code == 200


async def test_one_time_password_blocks_cli_issued_tokens(
    client: httpx.AsyncClient,
    sqlite_sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
) -> None:
    await _one_time_user(client)
    async with sqlite_sessions.begin() as db:
        user = (await db.execute(select(User).where(User.username == "sue"))).scalar_one()
        new = await create_token(  # what `fictra users token sue --scope '*'` does
            db,
            user=user,
            scopes=["*"],
            expires_in=timedelta(days=1),
            role_map=roles,
            actor=SYSTEM,
            clock=clock,
            policy=DEFAULT_POLICY,
        )
    bearer = {"Authorization": f"Bearer {new.token}"}
    refused = await client.post("/api/v1/users", json={"username": "eve", "roles": ["admin"]}, headers=bearer)
    assert refused.status_code == 403 and "one-time password" in refused.json()["error"]["message"]
    assert (await client.get("/api/v1/users", headers=bearer)).status_code == 403
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200


@pytest.mark.parametrize(
    "password", ["Password2024!", "qwertyuiop123", "administrator1", "123456789012", "Letmein!!2026"]
)
def test_common_passwords_are_refused(password: str) -> None:
    with pytest.raises(UsageError, match="common one"):
        passwords.check_strength(password, username="alice")


async def test_password_change_ends_other_sessions_and_optionally_tokens(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    user = await add_user(sqlite_sessions, roles, clock)
    here = await login(sqlite_sessions, username="alice", password=PASSWORD, source=ADMIN_DESK, clock=clock)
    stolen = await login(sqlite_sessions, username="alice", password=PASSWORD, source=ATTACKER, clock=clock)
    async with sqlite_sessions.begin() as db:
        await create_token(
            db,
            user=user,
            scopes=["alerts.read"],
            expires_in=timedelta(days=1),
            role_map=roles,
            actor=SYSTEM,
            clock=clock,
            policy=DEFAULT_POLICY,
        )
    async with sqlite_sessions.begin() as db:
        row = await db.get(User, user.id)
        assert row is not None
        with pytest.raises(AuthenticationError):
            await change_password(
                db, user=row, current_password="wrong!", new_password=NEW_PASSWORD, actor=SYSTEM, clock=clock
            )
        done = await change_password(
            db,
            user=row,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
            actor=SYSTEM,
            clock=clock,
            keep_session=here.session_token,
            revoke_tokens=True,
        )
    assert (done.sessions_revoked, done.tokens_revoked) == (1, 1)
    async with sqlite_sessions() as db:
        assert await resolve_session(db, token=here.session_token, clock=clock, policy=DEFAULT_POLICY)
        assert (
            await resolve_session(db, token=stolen.session_token, clock=clock, policy=DEFAULT_POLICY) is None
        )
        assert all(t.revoked_at is not None for t in (await db.execute(select(ApiToken))).scalars())
        live = (await db.execute(select(AuthSession).where(AuthSession.revoked_at.is_(None)))).scalars().all()
        assert len(live) == 1


async def test_thousand_bad_logins_from_one_client_do_not_stop_the_admin_elsewhere(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    await add_user(sqlite_sessions, roles, clock, username="admin", role="admin")
    reasons: list[str] = []
    for _ in range(1000):
        with pytest.raises(AuthenticationError, match="Wrong user name or password"):
            await login(
                sqlite_sessions, username="admin", password="guess guess guess", source=ATTACKER, clock=clock
            )
        clock.advance(1)
    async with sqlite_sessions() as db:
        reasons = list(
            (await db.execute(select(AccessAttempt.reason).where(AccessAttempt.success.is_(False)))).scalars()
        )
    assert reasons[:5] == ["bad_password"] * 5 and set(reasons[5:]) <= {
        "locked",
        "client_locked",
        "bad_password",
    }
    # the attacker's client is locked out of admin, even with the right password
    with pytest.raises(AuthenticationError):
        await login(sqlite_sessions, username="admin", password=PASSWORD, source=ATTACKER, clock=clock)
    # the admin, from their own client, signs in at once
    before = clock.now()
    result = await login(sqlite_sessions, username="admin", password=PASSWORD, source=ADMIN_DESK, clock=clock)
    assert result.username == "admin"
    assert clock.now() - before <= DEFAULT_POLICY.user_delay_max


async def test_pair_locks_back_off_exponentially_and_unlock_clears_them(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    await add_user(sqlite_sessions, roles, clock)

    async def fail(times: int) -> None:
        for _ in range(times):
            with pytest.raises(AuthenticationError):
                await login(
                    sqlite_sessions, username="alice", password="not it at all", source=ATTACKER, clock=clock
                )

    await fail(5)  # first lock: 15 minutes
    clock.advance(15 * 60 + 1)
    await fail(5)  # second lock: 30 minutes
    clock.advance(16 * 60)
    with pytest.raises(AuthenticationError):
        await login(sqlite_sessions, username="alice", password=PASSWORD, source=ATTACKER, clock=clock)
    async with sqlite_sessions.begin() as db:
        assert await unlock_user(db, username="alice", actor=SYSTEM, clock=clock, reason="it was me") >= 1
    assert (
        await login(sqlite_sessions, username="alice", password=PASSWORD, source=ATTACKER, clock=clock)
    ).username


async def test_locked_and_unknown_users_cost_a_password_check(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_user(sqlite_sessions, roles, clock)
    checks: list[str] = []
    real = passwords.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    for name in ("alice",) * 6 + ("nobody",):
        with pytest.raises(AuthenticationError) as exc:
            await login(
                sqlite_sessions, username=name, password="wrong wrong wrong", source=ATTACKER, clock=clock
            )
        assert exc.value.user_message == LOGIN_FAILED
    assert len(checks) == 7  # 5 wrong, 1 while locked, 1 unknown user: each one argon2 verification


async def test_failed_attempts_are_rate_limited_and_pruned(
    sqlite_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sqlite_sessions.begin() as db:
        for _ in range(500):  # junk tokens from one client
            await record_attempt(
                db, username="(unknown token)", method="token", success=False, reason="unknown_token",
                source=ATTACKER, clock=clock,
            )  # fmt: skip
            await db.flush()
    async with sqlite_sessions() as db:
        count = (await db.execute(select(func.count()).select_from(AccessAttempt))).scalar_one()
    assert count == DEFAULT_POLICY.attempts_per_minute
    clock.advance(DEFAULT_POLICY.attempts_retention.total_seconds() + 60)
    async with sqlite_sessions.begin() as db:
        assert await prune_attempts(db, clock=clock) == count
