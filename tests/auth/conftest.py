"""Fixtures of the auth tests: a migrated database's session factory and the shipped role map."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM
from fictra.auth.models import User
from fictra.auth.permissions import RoleMap, load_roles
from fictra.auth.service import create_user
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate, session_factory

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id code path with small cost parameters, so the many logins of these tests stay fast
    on a loaded machine (test_passwords checks the production parameters)."""
    from argon2 import PasswordHasher

    from fictra.auth import passwords

    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()


@pytest.fixture(scope="session")
def roles() -> RoleMap:
    return load_roles(REPO / "config" / "roles.yaml")


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """On SQLite and PostgreSQL (the ``engine`` fixture is parametrized)."""
    return session_factory(engine)


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """SQLite only, for tests about logic rather than storage."""
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    migrate(url)
    eng = make_engine(url)
    yield session_factory(eng)
    await eng.dispose()


async def add_user(
    sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
    username: str = "alice",
    role: str = "technical_lead",
    password: str = PASSWORD,
) -> User:
    async with sessions.begin() as db:
        return await create_user(
            db, username=username, roles=[role], password=password, role_map=roles, actor=SYSTEM, clock=clock
        )
