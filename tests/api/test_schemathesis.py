"""schemathesis against the published OpenAPI schema, over real HTTP (uvicorn on loopback), as admin:
no 5xx, status codes, content types and bodies as the schema says. Bounded (a few examples per
operation) so it stays well under a minute."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from fictra.api.app import serve
from fictra.auth.actor import SYSTEM
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import create_user
from fictra.auth.tokens import create_token
from fictra.db.engine import migrate
from fictra.devnet.anvil import free_port

from .rig import PASSWORD, add_user, api_rig

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
# signing out or changing the password of the caller would only turn the rest of the run into 401s
SKIP = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password")}


@dataclass
class Live:
    base_url: str
    token: str


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app served by uvicorn in its own thread and event loop (its DB engine lives there too)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'api.db'}"
    migrate(url)
    port = free_port()
    ready = threading.Event()
    stop_holder: dict[str, Any] = {}
    token: dict[str, str] = {}

    async def main() -> None:
        async with api_rig(url, roles=[], alerts=5) as rig:
            async with rig.sessions.begin() as db:  # padding tokens, so random ids rarely hit the admin's
                spare = await create_user(
                    db,
                    username="spare",
                    roles=["viewer"],
                    password=PASSWORD,
                    role_map=rig.roles,
                    actor=SYSTEM,
                    clock=rig.clock,
                )
                for _ in range(30):
                    await create_token(
                        db,
                        user=spare,
                        scopes=["alerts.read"],
                        expires_in=timedelta(days=1),
                        role_map=rig.roles,
                        actor=SYSTEM,
                        clock=rig.clock,
                        policy=DEFAULT_POLICY,
                    )
            token["admin"] = (await add_user(rig, username="u-admin", role="admin")).token
            stop = asyncio.Event()
            stop_holder["stop"], stop_holder["loop"] = stop, asyncio.get_running_loop()
            server = asyncio.create_task(serve(rig.app, host="127.0.0.1", port=port, stop=stop))
            ready.set()
            await server

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(30), "the API did not start"
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", token["admin"])
    finally:
        stop_holder["loop"].call_soon_threadsafe(stop_holder["stop"].set)
        thread.join(30)


def test_api_conforms_to_its_schema(live_api: Live) -> None:
    """Every operation of the published schema, a few generated cases each, all checks; every failure of
    every operation is collected and reported together. (Driven directly rather than through
    schemathesis' pytest plugin, which does not support this pytest version.)"""
    schema = schemathesis.openapi.from_url(f"{live_api.base_url}/api/openapi.json")
    headers = {"Authorization": f"Bearer {live_api.token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=10)

        try:
            check()
        except Exception as exc:  # each operation's first failure, with schemathesis' explanation
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert operations >= 20
    assert not failures, "\n\n".join(failures)


def test_schema_is_published(live_api: Live) -> None:
    schema_doc = httpx.get(f"{live_api.base_url}/api/openapi.json").json()
    assert schema_doc["info"]["title"] == "FICTRA Ops"
    assert "/api/v1/alerts" in schema_doc["paths"]


def test_api_statefully(live_api: Live) -> None:
    """Call sequences: schemathesis links operations that produce a resource to those that take its id
    (inferred from the response schemas and path parameters) and replays real ids along the chain; every
    response is checked for 5xx and against the schema. Bounded: a few short scenarios."""
    schema = schemathesis.openapi.from_url(f"{live_api.base_url}/api/openapi.json")
    for method, path in SKIP:
        schema = schema.exclude(method=method, path=path)
    headers = {"Authorization": f"Bearer {live_api.token}"}
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers, "timeout": 10}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=(not_a_server_error, content_type_conformance))

    Machine.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
