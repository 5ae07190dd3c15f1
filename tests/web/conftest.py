"""A console rig: the API rig (real app, migrated database, real users and alerts) plus browser-like
clients that sign in through the login form (cookies, CSRF tokens) — no browser needed."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.rig import CONFIG_DIR, PASSWORD, ApiRig, api_rig
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate, session_factory

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
LEAD, VIEWER, AUDITOR, LEGAL = "u-technical-lead", "u-viewer", "u-security-officer", "u-legal"
USERS = {LEAD: "technical_lead", VIEWER: "viewer", AUDITOR: "security_officer", LEGAL: "legal"}


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def client_for(rig: ApiRig) -> httpx.AsyncClient:
    """A client on the app with its own cookie jar (one per person)."""
    transport = httpx.ASGITransport(app=rig.app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, next_url: str = "/"
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": next_url},
    )


@pytest.fixture(scope="session")
async def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the users (argon2 hashing is slow on purpose): made once, copied per test.
    The console's logic does not depend on the database; the API and store tests cover PostgreSQL."""
    path = tmp_path_factory.mktemp("web-template") / "web.db"
    migrate(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    roles = load_roles(CONFIG_DIR / "roles.yaml")
    try:
        async with session_factory(engine).begin() as db:
            for username, role in USERS.items():
                await create_user(
                    db,
                    username=username,
                    roles=[role],
                    password=PASSWORD,
                    role_map=roles,
                    actor=SYSTEM,
                    clock=FakeClock(),
                )
    finally:
        await engine.dispose()
    return path


@pytest.fixture
async def rig(template_db: Path, tmp_path: Path) -> AsyncIterator[ApiRig]:
    path = tmp_path / "web.db"
    shutil.copyfile(template_db, path)
    async with api_rig(f"sqlite:///{path}", roles=[]) as r:
        yield r


@pytest.fixture
async def lead(rig: ApiRig) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(rig) as client:
        assert (await sign_in(client, LEAD)).status_code == 303
        yield client


@pytest.fixture
async def viewer(rig: ApiRig) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(rig) as client:
        assert (await sign_in(client, VIEWER)).status_code == 303
        yield client
