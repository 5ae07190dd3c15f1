"""A console rig: the API rig (real app, migrated database, real users and alerts) plus a signed-in
browser-like client per user (cookies, the login form, CSRF tokens)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api.rig import PASSWORD, ApiRig, api_rig

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": "/"},
    )


def browser(rig: ApiRig) -> httpx.AsyncClient:
    """A second client on the same app with its own cookie jar."""
    transport = httpx.ASGITransport(app=rig.app, client=("127.0.0.1", 50001))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=["technical_lead", "viewer", "security_officer"]) as r:
        yield r
