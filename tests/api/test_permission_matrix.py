"""Every route of the app against every role of config/roles.yaml (plus its aliases and anonymous).

Routes are enumerated from the app itself, so a route added later is covered without touching this test.
A route's permission is what it declares: ``x-permission`` (set by :func:`fictra.api.deps.guarded`, or by
``openapi_extra`` on a route that checks inside its handler), else the ``require(permission)`` dependency
it uses, else "any signed-in user" when it depends on ``current_actor``. A route declaring nothing must be
in PUBLIC. Requests are real: each role's user signs in with their password (AUTH's login) and sends the
session and CSRF cookies and the CSRF header, through httpx's ASGI transport.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from fictra.api.deps import PERMISSION_KEY
from fictra.auth.deps import current_actor
from fictra.auth.permissions import PERMISSIONS
from fictra.db.engine import migrate

from .rig import ApiRig, add_user, api_rig, role_names, username_of

# (method, path) of the routes anyone may call: liveness, the published schema and docs, signing in,
# the console's static assets.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/static/{path:path}"),
    ("GET", "/feedback/changes/{token}"),  # a stakeholder's one-time feedback link (the token is the key)
    ("POST", "/feedback/changes/{token}"),
}
SIGNED_IN = "(signed in)"
UNDECLARED = "(undeclared console page)"
ANONYMOUS = "(anonymous)"


def _closure_permission(call: Any) -> str | None:
    if not inspect.isfunction(call):
        return None
    value = inspect.getclosurevars(call).nonlocals.get("permission")
    return value if isinstance(value, str) and value in PERMISSIONS else None


def declared(route: APIRoute) -> set[str] | None:
    """The permissions the route requires (all of them); {SIGNED_IN} for any signed-in user; None: none."""
    extra = route.openapi_extra or {}
    if PERMISSION_KEY in extra:
        value = extra[PERMISSION_KEY]
        return {value} if value != "public" else None
    found: set[str] = set()
    signed_in = False
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if (perm := _closure_permission(dep.call)) is not None:
            found.add(perm)
        if dep.call is current_actor:
            signed_in = True
        stack.extend(dep.dependencies)
    if found:
        return found
    return {SIGNED_IN} if signed_in else None


def app_routes(rig: ApiRig) -> Iterator[tuple[str, str, APIRoute | None]]:
    for ctx in iter_route_contexts(rig.app.routes):
        route = ctx.route
        for method in sorted(getattr(route, "methods", None) or []):
            if method != "HEAD":
                yield method, str(getattr(route, "path", "")), route if isinstance(route, APIRoute) else None


_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def fill(path: str, values: dict[str, str]) -> str:
    """Path parameters from ``values``: "<path>:<param>" first, then "<param>", else "1"."""
    return _PARAM.sub(lambda m: values.get(f"{path}:{m.group(1)}", values.get(m.group(1), "1")), path)


def denied(response: Any, *, anonymous: bool, public: bool = False) -> bool:
    if response.status_code == 401 or (response.status_code == 403 and not public):
        return True  # (a public form may still answer 403 to a missing CSRF token)
    location = response.headers.get("location", "")
    return anonymous and 300 <= response.status_code < 400 and "/login" in location


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'matrix.db'}"
    migrate(url)
    return url


async def test_every_route_against_every_role(sqlite_url: str) -> None:
    from fictra.auth.permissions import load_roles

    from .rig import CONFIG_DIR

    roles = role_names(load_roles(CONFIG_DIR / "roles.yaml"))
    async with api_rig(sqlite_url, roles=roles, alerts=3) as rig:
        victim = await add_user(rig, username="victim", role="viewer")
        first_monitor = rig.context.loaded_config.monitors[0].name  # type: ignore[union-attr]
        values = {
            "alert_id": str(rig.alert_ids[0]),
            "ref": str(rig.alert_ids[1]),
            "/api/v1/networks/{name}:name": "devnet",
            "/api/v1/monitors/{name}:name": first_monitor,
            "/api/v1/series/{name}:name": "tx_count",
            "username": "victim",
            "token_id": str(victim.id),
            "path": "console.css",
        }

        def values_for(who: str) -> dict[str, str]:
            """Self-service routes (your own tokens) are exercised on the caller's own user and token."""
            if who == ANONYMOUS:
                return values
            return {
                **values,
                "/api/v1/users/{username}/tokens:username": username_of(who),
                "/api/v1/tokens/{token_id}:token_id": str(rig.token_ids[who]),
            }

        routes = sorted(app_routes(rig), key=lambda r: ("logout" in r[1], r[1], r[0]))
        undeclared = [
            f"{m} {p}"
            for m, p, route in routes
            if (m, p) not in PUBLIC
            and (route is None or declared(route) is None)
            and p.startswith(("/api", "/metrics"))
        ]
        assert not undeclared, (
            "Routes without a permission (use fictra.api.deps.guarded(...), or openapi_extra "
            f"{{'{PERMISSION_KEY}': ...}} when the handler checks itself): {undeclared}"
        )
        headers = {role: await rig.session_headers(role) for role in roles}
        wrong: list[str] = []
        checked = 0
        for method, path, route in routes:
            required = declared(route) if route is not None and (method, path) not in PUBLIC else None
            if required is None and (method, path) not in PUBLIC:
                required = {UNDECLARED}
            for who in [ANONYMOUS, *roles]:
                if required is None:
                    expect_allowed = True
                elif required == {UNDECLARED}:
                    expect_allowed = who != ANONYMOUS
                elif who == ANONYMOUS:
                    expect_allowed = False
                else:
                    held = rig.roles.permissions_of([who])
                    expect_allowed = required == {SIGNED_IN} or required <= held
                url = fill(path, values_for(who))
                sent = {} if who == ANONYMOUS else headers[who]
                kwargs: dict[str, Any] = {"headers": sent}
                if method in ("POST", "PUT", "PATCH", "DELETE"):
                    kwargs["json"] = {}
                rig.client.cookies.clear()
                response = await rig.client.request(method, url, **kwargs)
                checked += 1
                if response.status_code >= 500:
                    wrong.append(f"{who}: {method} {url} -> {response.status_code} {response.text[:200]}")
                    continue
                if required == {UNDECLARED} and who != ANONYMOUS:
                    continue  # no declared permission to hold it to: only "no 5xx"
                public = (method, path) in PUBLIC
                if denied(response, anonymous=who == ANONYMOUS, public=public) == expect_allowed:
                    wrong.append(
                        f"{who}: {method} {url} expected {'allow' if expect_allowed else 'deny'} "
                        f"(needs {sorted(required or [])}), got {response.status_code} {response.text[:120]}"
                    )
                elif not expect_allowed:
                    assert response.headers.get("x-request-id")
        assert not wrong, "\n".join(wrong)
        assert checked >= len(routes) * (len(roles) + 1)


async def test_matrix_rules_catch_a_route_without_permission(sqlite_url: str) -> None:
    """The matrix's own rule can fail: a new unguarded route is reported as undeclared."""
    async with api_rig(sqlite_url, roles=[], alerts=0) as rig:

        @rig.app.get("/api/v1/oops")
        async def oops() -> dict[str, str]:
            return {}

        found = [(m, p, r) for m, p, r in app_routes(rig) if p == "/api/v1/oops"]
        assert found and found[0][2] is not None
        assert declared(found[0][2]) is None
        guarded_route = next(r for m, p, r in app_routes(rig) if p == "/api/v1/alerts" and r is not None)
        assert declared(guarded_route) == {"alerts.read"}
        users = next(
            r for m, p, r in app_routes(rig) if p == "/api/v1/users" and m == "GET" and r is not None
        )
        assert declared(users) == {"users.read"}
