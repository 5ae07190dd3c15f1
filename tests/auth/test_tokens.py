"""API tokens: random, hashed at rest (the raw token is nowhere in the database), scoped, expiring."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM
from fictra.auth.models import ApiToken
from fictra.auth.permissions import RoleMap
from fictra.auth.policy import DEFAULT_POLICY, digest
from fictra.auth.service import disable_user
from fictra.auth.tokens import create_token, parse_duration, resolve_token, revoke_token
from fictra.clock import FakeClock
from fictra.errors import NotFoundError, UsageError

from .conftest import add_user


async def _issue(
    sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
    scopes: list[str],
    ttl: str = "30d",
) -> str:
    async with sessions.begin() as db:
        from fictra.auth.service import get_user

        user = await get_user(db, username="alice")
        new = await create_token(
            db,
            user=user,
            scopes=scopes,
            expires_in=parse_duration(ttl),
            role_map=roles,
            actor=SYSTEM,
            clock=clock,
            policy=DEFAULT_POLICY,
        )
        return new.token


def _sqlite_bytes(url: str) -> bytes:
    db = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


async def _resolve(sessions: async_sessionmaker[AsyncSession], token: str, clock: FakeClock) -> str:
    async with sessions() as db:
        return (await resolve_token(db, token=token, clock=clock))[2]


async def test_token_hashed_at_rest_scoped_and_expiring(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock, database_url: str
) -> None:
    await add_user(sessions, roles, clock)
    raw = await _issue(sessions, roles, clock, ["alerts.read", "alerts.acknowledge"], ttl="2h")
    assert raw.startswith("fictra_") and len(raw) > 40
    async with sessions() as db:
        row = (await db.execute(select(ApiToken))).scalar_one()
        assert row.token_hash == digest(raw) and row.scopes == ["alerts.acknowledge", "alerts.read"]
        assert row.expires_at == clock.now() + timedelta(hours=2)
        # the raw token is in no column of any auth table
        for table in ("api_tokens", "users", "access_attempts", "auth_sessions"):
            for values in (await db.execute(text(f"SELECT * FROM {table}"))).all():
                assert not any(raw in str(v) or raw[7:] in str(v) for v in values), table
    if database_url.startswith("sqlite"):  # nor anywhere in the database files (main file and WAL)
        assert raw.encode() not in _sqlite_bytes(database_url)
    assert await _resolve(sessions, raw, clock) == "ok"
    assert await _resolve(sessions, raw + "x", clock) == "unknown_token"
    clock.advance(2 * 3600)
    assert await _resolve(sessions, raw, clock) == "expired_token"


async def test_revoked_and_disabled(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    sessions = sqlite_sessions
    await add_user(sessions, roles, clock)
    first = await _issue(sessions, roles, clock, ["alerts.read"])
    second = await _issue(sessions, roles, clock, ["alerts.read"])
    async with sessions.begin() as db:
        row = (await db.execute(select(ApiToken).where(ApiToken.token_hash == digest(first)))).scalar_one()
        await revoke_token(db, token_id=row.id, actor=SYSTEM, clock=clock)
        with pytest.raises(NotFoundError):
            await revoke_token(db, token_id=999, actor=SYSTEM, clock=clock)
    assert await _resolve(sessions, first, clock) == "revoked_token"
    assert await _resolve(sessions, second, clock) == "ok"
    async with sessions.begin() as db:
        await disable_user(db, username="alice", actor=SYSTEM, clock=clock)
    assert await _resolve(sessions, second, clock) == "disabled"


@pytest.mark.parametrize(
    ("scopes", "ttl", "message"),
    [
        ([], "30d", "Give at least one scope (--scope PERMISSION), e.g. --scope alerts.read."),
        (["alerts.raed"], "30d", "Unknown scope 'alerts.raed'. Scopes are permission names:"),
        (
            ["users.manage"],
            "30d",
            "User 'alice' (roles technical_lead) does not hold 'users.manage', so a token cannot be scoped",
        ),
        (["alerts.read"], "400d", "Token expiry must be between 1 second and 366 days."),
    ],
)
async def test_bad_token_requests(
    sqlite_sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
    scopes: list[str],
    ttl: str,
    message: str,
) -> None:
    await add_user(sqlite_sessions, roles, clock)
    with pytest.raises(UsageError) as err:
        await _issue(sqlite_sessions, roles, clock, scopes, ttl)
    assert err.value.user_message.startswith(message)


@pytest.mark.parametrize("text_", ["", "30", "0d", "3y", "-1d", "d"])
def test_bad_durations(text_: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_duration(text_)
    assert err.value.user_message == (
        f"Expiry '{text_}' is not a duration: use a positive number and a unit, like 30d or 12h."
    )


def test_durations() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(weeks=2)
