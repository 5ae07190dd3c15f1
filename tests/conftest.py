"""Fixtures shared by the whole suite: Anvil nodes, a migrated database per test (SQLite, and
PostgreSQL where available), and a fake clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate
from fictra.devnet.anvil import AnvilNode

POSTGRES_URL = os.environ.get("FICTRA_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
# the configured CLI identity (`--as` or FICTRA_OPERATOR is required for changes from the terminal)
os.environ.setdefault("FICTRA_OPERATOR", "cli:test")


@pytest.fixture
def anvil() -> Iterator[AnvilNode]:
    """A fresh automining Anvil node for one test."""
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def shared_anvil() -> Iterator[AnvilNode]:
    """One Anvil node for a whole session; tests must revert their changes (evm_snapshot/revert)."""
    with AnvilNode() as node:
        yield node


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _postgres_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=2):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "connection refused"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, then a fresh PostgreSQL schema.

    PostgreSQL tests skip with the reason when no server answers, except under CI=true where they fail.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        migrate(url)
        yield url
        return
    problem = _postgres_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable ({problem}); set FICTRA_TEST_POSTGRES_URL")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(database_url)
    yield eng
    await eng.dispose()
