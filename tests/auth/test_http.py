"""The auth router on a bare FastAPI app (httpx ASGITransport): login/me/logout, CSRF for cookie sessions
and not for Bearer tokens, 401/403, users and tokens endpoints."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.api.errors import status_for
from fictra.api.routes.auth import router
from fictra.auth.deps import Actor, require
from fictra.auth.models import AccessAttempt
from fictra.auth.permissions import RoleMap
from fictra.clock import FakeClock
from fictra.errors import FictraError

from .conftest import PASSWORD, add_user


def make_app(sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock) -> FastAPI:
    app = FastAPI()
    app.state.context = SimpleNamespace(sessions=sessions, clock=clock, roles=roles)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": {"message": "invalid"}}, status_code=422)

    @app.exception_handler(FictraError)
    async def domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, FictraError)
        status = status_for(exc)  # the one mapping (fictra.api.errors), subclasses included
        return JSONResponse({"error": {"message": exc.user_message}}, status_code=status)

    app.include_router(router)

    @app.post("/api/v1/probe/ack")
    async def ack(actor: Annotated[Actor, Depends(require("alerts.acknowledge"))]) -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.fixture
async def client(
    sqlite_sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    await add_user(sqlite_sessions, roles, clock)  # technical_lead
    await add_user(sqlite_sessions, roles, clock, username="vic", role="viewer")
    await add_user(sqlite_sessions, roles, clock, username="root", role="admin")
    transport = httpx.ASGITransport(app=make_app(sqlite_sessions, roles, clock), client=("192.0.2.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def engine_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    return sessions  # SQLite and PostgreSQL


@pytest.fixture
async def engine_client(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on SQLite and on PostgreSQL, no users yet."""
    transport = httpx.ASGITransport(app=make_app(sessions, roles, clock), client=("192.0.2.8", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _login(client: httpx.AsyncClient, username: str = "alice") -> str:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


async def test_login_me_logout(
    client: httpx.AsyncClient, sqlite_sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    r = await client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}, headers={"user-agent": "ua/1"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "alice" and "alerts.resolve" in body["permissions"]
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("fictra_session="))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie and "Path=/" in session_cookie
    assert any(c.startswith(f"fictra_csrf={body['csrf_token']}") for c in cookies)
    me = await client.get("/api/v1/auth/me")
    assert (
        me.status_code == 200 and me.json()["via"] == "session" and me.json()["roles"] == ["technical_lead"]
    )
    # logout is unsafe: without the CSRF header it is refused, with it the session ends
    assert (await client.post("/api/v1/auth/logout")).status_code == 403
    out = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    client.cookies.clear()
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    async with sqlite_sessions() as db:
        rows = (await db.execute(select(AccessAttempt))).scalars().all()
    assert [(a.username, a.success, a.source_ip, a.user_agent) for a in rows] == [
        ("alice", True, "192.0.2.7", "ua/1")
    ]


async def test_logged_out_session_cookie_no_longer_works(client: httpx.AsyncClient) -> None:
    csrf = await _login(client)
    stolen = client.cookies.get("fictra_session")
    await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    client.cookies.set("fictra_session", stolen or "")
    r = await client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json()["error"]["message"].startswith("Your session has ended")


async def test_bad_login_is_401_with_one_message(client: httpx.AsyncClient) -> None:
    for name, pw in (("alice", "wrong-password-1"), ("nobody", PASSWORD)):
        r = await client.post("/api/v1/auth/login", json={"username": name, "password": pw})
        assert r.status_code == 401
        assert r.json()["error"]["message"].startswith("Wrong user name or password")
    assert (await client.post("/api/v1/auth/login", json={"username": "alice"})).status_code == 422


async def test_csrf_required_for_cookie_sessions(client: httpx.AsyncClient) -> None:
    csrf = await _login(client)
    assert (await client.post("/api/v1/probe/ack")).status_code == 403
    assert (await client.post("/api/v1/probe/ack", headers={"X-CSRF-Token": "forged"})).status_code == 403
    assert (await client.post("/api/v1/probe/ack", headers={"X-CSRF-Token": csrf})).status_code == 200
    form = await client.post("/api/v1/probe/ack", data={"csrf_token": csrf})
    assert form.status_code == 200
    # double submit: the header must equal the cookie too
    client.cookies.set("fictra_csrf", "other")
    assert (await client.post("/api/v1/probe/ack", headers={"X-CSRF-Token": csrf})).status_code == 403


async def test_bearer_tokens_need_no_csrf_and_are_limited_to_their_scopes(client: httpx.AsyncClient) -> None:
    csrf = await _login(client)
    r = await client.post(
        "/api/v1/users/alice/tokens",
        json={"scopes": ["alerts.read"], "expires_in": "1d"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    read_only = r.json()["token"]
    r = await client.post(
        "/api/v1/users/alice/tokens",
        json={"scopes": ["alerts.acknowledge"], "expires_in": "1d"},
        headers={"X-CSRF-Token": csrf},
    )
    acker, acker_id = r.json()["token"], r.json()["id"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {acker}"}
    assert (await client.post("/api/v1/probe/ack", headers=bearer)).status_code == 200  # no CSRF needed
    assert (
        await client.post("/api/v1/probe/ack", headers={"Authorization": f"Bearer {read_only}"})
    ).status_code == 403
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {read_only}"})
    assert me.json()["permissions"] == ["alerts.read"] and me.json()["via"] == "token"
    assert (
        await client.post("/api/v1/probe/ack", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    assert (
        await client.post("/api/v1/probe/ack", headers={"Authorization": "Basic eDp5"})
    ).status_code == 401
    # the token cannot revoke itself without tokens.manage... but its owner's session can
    assert (await client.delete(f"/api/v1/tokens/{acker_id}", headers=bearer)).status_code == 403
    csrf = await _login(client)
    gone = await client.delete(f"/api/v1/tokens/{acker_id}", headers={"X-CSRF-Token": csrf})
    assert gone.status_code == 200 and gone.json()["revoked"] is True
    client.cookies.clear()
    assert (await client.post("/api/v1/probe/ack", headers=bearer)).status_code == 401


async def test_users_endpoints_are_permission_checked(client: httpx.AsyncClient) -> None:
    csrf = await _login(client, "vic")
    assert (await client.get("/api/v1/users")).status_code == 403
    denied = await client.post(
        "/api/v1/users", json={"username": "eve", "roles": ["admin"]}, headers={"X-CSRF-Token": csrf}
    )
    assert denied.status_code == 403
    assert "lacks the permission 'users.manage'" in denied.json()["error"]["message"]
    other = await client.post(
        "/api/v1/users/alice/tokens", json={"scopes": ["alerts.read"]}, headers={"X-CSRF-Token": csrf}
    )
    assert other.status_code == 403
    client.cookies.clear()
    csrf = await _login(client, "root")
    created = await client.post(
        "/api/v1/users",
        json={"username": "sue", "roles": ["first_level_support"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201
    one_time = created.json()["one_time_password"]
    assert len(one_time) >= 16 and created.json()["user"]["roles"] == ["first_level_support"]
    dup = await client.post(
        "/api/v1/users", json={"username": "sue", "roles": ["viewer"]}, headers={"X-CSRF-Token": csrf}
    )
    assert dup.status_code == 409
    bad = await client.post(
        "/api/v1/users", json={"username": "ann", "roles": ["wizard"]}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.status_code == 422 and "Unknown role 'wizard'" in bad.json()["error"]["message"]
    names = [u["username"] for u in (await client.get("/api/v1/users")).json()]
    assert names == ["alice", "root", "sue", "vic"]
    off = await client.post("/api/v1/users/sue/disable", headers={"X-CSRF-Token": csrf})
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert (await client.post("/api/v1/users/sue/disable", headers={"X-CSRF-Token": csrf})).status_code == 409
    assert (await client.post("/api/v1/users/zed/disable", headers={"X-CSRF-Token": csrf})).status_code == 404
    client.cookies.clear()
    r = await client.post("/api/v1/auth/login", json={"username": "sue", "password": one_time})
    assert r.status_code == 401  # disabled


async def test_one_time_password_must_be_changed(client: httpx.AsyncClient) -> None:
    csrf = await _login(client, "root")
    created = await client.post(
        "/api/v1/users", json={"username": "sue", "roles": ["viewer"]}, headers={"X-CSRF-Token": csrf}
    )
    one_time = created.json()["one_time_password"]
    client.cookies.clear()
    r = await client.post("/api/v1/auth/login", json={"username": "sue", "password": one_time})
    assert r.json()["must_change_password"] is True
    csrf = r.json()["csrf_token"]
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope-nope-nope", "new_password": "a much better one"},
        headers={"X-CSRF-Token": csrf},
    )
    assert wrong.status_code == 401
    weak = await client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "short"},
        headers={"X-CSRF-Token": csrf},
    )
    assert weak.status_code == 422
    ok = await client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "a much better one"},
        headers={"X-CSRF-Token": csrf},
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/auth/me")).json()["must_change_password"] is False


async def test_token_uses_are_recorded(
    client: httpx.AsyncClient, sqlite_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    csrf = await _login(client)
    r = await client.post(
        "/api/v1/users/alice/tokens",
        json={"scopes": ["alerts.read"], "expires_in": "1h"},
        headers={"X-CSRF-Token": csrf},
    )
    token = r.json()["token"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # successes: recorded at most once a minute
        assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
    clock.advance(61)
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 200
    clock.advance(3600)
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 401
    assert (
        await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer fictra_guess"})
    ).status_code == 401
    async with sqlite_sessions() as db:
        rows = (await db.execute(select(AccessAttempt).order_by(AccessAttempt.id))).scalars().all()
    assert [(a.method, a.username, a.success, a.reason) for a in rows] == [
        ("password", "alice", True, "ok"),
        ("token", "alice", True, "ok"),
        ("token", "alice", True, "ok"),
        ("token", "alice", False, "expired_token"),
        ("token", "(unknown token)", False, "unknown_token"),
    ]


@pytest.mark.parametrize("username", ["nul\x00byte", "alice\n", "x" * 200, "Alice", "a"])
async def test_odd_user_names_are_refused_not_crashed(
    engine_client: httpx.AsyncClient, username: str, engine_sessions: async_sessionmaker[AsyncSession]
) -> None:
    r = await engine_client.post("/api/v1/auth/login", json={"username": username, "password": "pw\x00pw"})
    assert r.status_code == 401
    async with engine_sessions() as db:
        [row] = (await db.execute(select(AccessAttempt))).scalars().all()
    assert row.reason == "unknown_user" and "\x00" not in row.username and len(row.username) <= 200
    # JSON may carry lone surrogates (\udcff): refused as invalid input before anything is stored
    body = json.dumps({"username": "sur\udcff", "password": "x\udcff"})
    r = await engine_client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


async def test_odd_paths_are_refused_not_crashed(
    engine_client: httpx.AsyncClient,
    engine_sessions: async_sessionmaker[AsyncSession],
    roles: RoleMap,
    clock: FakeClock,
) -> None:
    await add_user(engine_sessions, roles, clock, username="root", role="admin")
    csrf = await _login(engine_client, "root")
    headers = {"X-CSRF-Token": csrf}
    assert (await engine_client.post("/api/v1/users/nul%00byte/disable", headers=headers)).status_code == 404
    assert (await engine_client.get("/api/v1/users/%ED%B3%BF/tokens")).status_code == 404
    assert (await engine_client.delete("/api/v1/tokens/99999999999", headers=headers)).status_code == 422
    assert (await engine_client.delete("/api/v1/tokens/0", headers=headers)).status_code == 422
    assert (await engine_client.delete("/api/v1/tokens/7", headers=headers)).status_code == 404
    bad = await engine_client.post(
        "/api/v1/users", json={"username": "nul\x00", "roles": ["viewer"]}, headers=headers
    )
    assert bad.status_code == 422 and "\x00" not in bad.json()["error"]["message"]
    weird = await engine_client.post(
        "/api/v1/users",
        content=json.dumps({"username": "sue", "roles": ["viewer"], "password": "x\udcff" * 8}),
        headers={**headers, "content-type": "application/json"},
    )
    assert weird.status_code == 422
