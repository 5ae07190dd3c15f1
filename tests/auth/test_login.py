"""Passwords, logins, lockout and disabled users; every attempt recorded (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM
from fictra.auth.models import AccessAttempt, AuthSession, User
from fictra.auth.passwords import check_strength, hash_password, verify_password
from fictra.auth.permissions import RoleMap
from fictra.auth.policy import DEFAULT_POLICY, Source, digest
from fictra.auth.service import LOGIN_FAILED, create_user, disable_user, login
from fictra.auth.sessions import resolve_session
from fictra.clock import FakeClock
from fictra.errors import AuthenticationError, ConflictError, UsageError

from .conftest import PASSWORD, add_user

HOME = Source("10.0.0.1", "pytest-browser")


def test_production_argon2_parameters() -> None:
    from fictra.auth.passwords import PRODUCTION_HASHER

    # OWASP: argon2id with at least 19 MiB and 2 iterations
    assert PRODUCTION_HASHER.type.name == "ID"
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024 and PRODUCTION_HASHER.time_cost >= 2
    hashed = PRODUCTION_HASHER.hash("s3cret-enough-pw")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and verify_password(
        hashed, "s3cret-enough-pw"
    )


def test_hash_and_verify() -> None:
    hashed = hash_password("s3cret-enough-pw")
    assert hashed.startswith("$argon2id$") and "s3cret" not in hashed
    assert verify_password(hashed, "s3cret-enough-pw")
    assert not verify_password(hashed, "s3cret-enough-pX")
    assert not verify_password("not-a-hash", "s3cret-enough-pw")
    assert hash_password("s3cret-enough-pw") != hashed  # salted


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "The password is empty. Give at least 12 characters."),
        ("short", "The password has 5 characters. Give at least 12."),
        (
            "aaaaaaaaaaaaaaaa",
            "The password is too easy to guess (the user name, or too few distinct characters).",
        ),
        (
            "alice.example1",
            "The password is too easy to guess (the user name, or too few distinct characters).",
        ),
    ],
)
def test_weak_passwords(password: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        check_strength(password, username="alice.example1")
    assert err.value.user_message == message


async def _attempts(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, bool, str, str | None]]:
    async with sessions() as db:
        rows = (await db.execute(select(AccessAttempt).order_by(AccessAttempt.id))).scalars().all()
        return [(r.username, r.success, r.reason, r.source_ip) for r in rows]


async def test_login_records_every_attempt(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    await add_user(sessions, roles, clock)
    result = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    assert result.username == "alice" and result.roles == ("technical_lead",)
    with pytest.raises(AuthenticationError) as err:
        await login(sessions, username="alice", password="wrong password!", source=HOME, clock=clock)
    assert err.value.user_message == LOGIN_FAILED
    with pytest.raises(AuthenticationError):
        await login(
            sessions, username="mallory", password=PASSWORD, source=Source("6.6.6.6", "x"), clock=clock
        )
    assert await _attempts(sessions) == [
        ("alice", True, "ok", "10.0.0.1"),
        ("alice", False, "bad_password", "10.0.0.1"),
        ("mallory", False, "unknown_user", "6.6.6.6"),
    ]
    async with sessions() as db:  # the session id and CSRF token are stored only as hashes
        row = (await db.execute(select(AuthSession))).scalar_one()
        assert row.token_hash == digest(result.session_token) and row.csrf_hash == digest(result.csrf_token)
        assert result.session_token not in {row.token_hash, row.csrf_hash}
        user = (await db.execute(select(User))).scalar_one()
        assert user.last_login_at == clock.now() and PASSWORD not in user.password_hash


async def test_lockout_after_five_failures_for_fifteen_minutes(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await add_user(sessions, roles, clock)
    for _ in range(5):
        clock.advance(60)
        with pytest.raises(AuthenticationError):
            await login(sessions, username="alice", password="not the password", source=HOME, clock=clock)
    # locked: even the right password fails now, and is recorded as "locked"
    with pytest.raises(AuthenticationError):
        await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    clock.advance(14 * 60)
    with pytest.raises(AuthenticationError):
        await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    clock.advance(61)
    assert (await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)).username
    reasons = [a[2] for a in await _attempts(sessions)]
    assert reasons == ["bad_password"] * 5 + ["locked", "locked", "ok"]


async def test_failures_spread_beyond_the_window_do_not_lock(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await add_user(sessions, roles, clock)
    for _ in range(8):  # one failure every 4 minutes: never 5 within 15 minutes of the first
        clock.advance(4 * 60)
        with pytest.raises(AuthenticationError):
            await login(sessions, username="alice", password="not the password", source=HOME, clock=clock)
    assert (await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)).username


async def test_success_resets_the_failure_count(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await add_user(sessions, roles, clock)
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(AuthenticationError):
                await login(sessions, username="alice", password="not the password", source=HOME, clock=clock)
        await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)


async def test_disabled_user_cannot_log_in_and_sessions_end(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    await add_user(sessions, roles, clock)
    live = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    async with sessions.begin() as db:
        await disable_user(db, username="alice", actor=SYSTEM, clock=clock)
    with pytest.raises(AuthenticationError):
        await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    async with sessions() as db:
        assert await resolve_session(db, token=live.session_token, clock=clock, policy=DEFAULT_POLICY) is None
    assert (await _attempts(sessions))[-1][1:3] == (False, "disabled")
    async with sessions.begin() as db:
        with pytest.raises(ConflictError) as err:
            await disable_user(db, username="alice", actor=SYSTEM, clock=clock)
    assert err.value.user_message == "User 'alice' is already disabled."


async def test_session_expiry_absolute_and_idle(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await add_user(sessions, roles, clock)
    policy = DEFAULT_POLICY
    idle = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    busy = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)

    async def alive(token: str) -> bool:
        async with sessions.begin() as db:
            return await resolve_session(db, token=token, clock=clock, policy=policy) is not None

    for _ in range(13):  # busy is used every 55 minutes for 11h55m; idle is not
        clock.advance(55 * 60)
        assert await alive(busy.session_token)
    assert not await alive(idle.session_token)
    clock.advance(policy.session_ttl.total_seconds() - 13 * 55 * 60 - 1)
    assert await alive(busy.session_token)
    clock.advance(1)
    assert not await alive(busy.session_token)  # 12 hours after login, however busy


@pytest.mark.parametrize(
    ("username", "role_list", "message"),
    [
        ("Alice", ["viewer"], "User name 'Alice' is not valid"),
        ("bob", ["wizard"], "Unknown role 'wizard'. Roles (config/roles.yaml): admin, compliance_officer"),
        ("bob", [], "Give at least one role (--role); one of: admin,"),
    ],
)
async def test_create_user_bad_input(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
    username: str,
    role_list: list[str],
    message: str,
) -> None:
    async with sqlite_sessions.begin() as db:
        with pytest.raises(UsageError) as err:
            await create_user(
                db,
                username=username,
                roles=role_list,
                password=PASSWORD,
                role_map=roles,
                actor=SYSTEM,
                clock=clock,
            )
    assert err.value.user_message.startswith(message)


async def test_create_user_twice_conflicts_and_alias_is_stored_canonical(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    user = await add_user(sqlite_sessions, roles, clock, role="lead_engineer")
    assert user.roles == ["technical_lead"]
    with pytest.raises(ConflictError) as err:
        await add_user(sqlite_sessions, roles, clock)
    assert err.value.user_message == "User 'alice' already exists."


async def test_ended_sessions_are_deleted_at_the_next_login(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    from sqlalchemy import func

    from fictra.auth.sessions import revoke_session

    await add_user(sessions, roles, clock)
    first = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    second = await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    async with sessions.begin() as db:
        await revoke_session(db, token=first.session_token, clock=clock)
    await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    async with sessions() as db:
        assert (await db.execute(select(func.count()).select_from(AuthSession))).scalar_one() == 2
    clock.advance(DEFAULT_POLICY.session_idle.total_seconds())
    await login(sessions, username="alice", password=PASSWORD, source=HOME, clock=clock)
    async with sessions() as db:
        left = (await db.execute(select(AuthSession))).scalars().all()
    assert len(left) == 1 and left[0].token_hash != digest(second.session_token)
