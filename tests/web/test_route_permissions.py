"""Every console route is guarded by the API's own permission dependency: ``guarded(permission)`` puts the
auth module's ``require(permission)`` on the route and publishes it as ``x-permission``, so what a page
declares is what it checks, and the API's permission matrix (tests/api/test_permission_matrix.py) holds
every role to it with the same :func:`declared` it uses for API routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.test_permission_matrix import SIGNED_IN, declared
from fictra.api.deps import PERMISSION_KEY, guarded
from fictra.auth.deps import current_actor
from fictra.auth.permissions import PERMISSIONS
from fictra.web.access import PASSWORD_PAGE, ConsoleRoute
from fictra.web.views import router

# signing in and out, and the static assets: no permission to declare
OPEN = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/static/{path:path}"),
        # a stakeholder's one-time feedback link on a change (the token is the credential)
        ("GET", "/feedback/changes/{token}"), ("POST", "/feedback/changes/{token}")}  # fmt: skip
# any signed-in user (their own account)
ANY_SIGNED_IN = {("GET", PASSWORD_PAGE), ("POST", PASSWORD_PAGE)}


def console_routes() -> Iterator[APIRoute]:
    for ctx in iter_route_contexts(router.routes):
        assert isinstance(ctx.route, APIRoute)
        yield ctx.route


def _checked_permissions(route: APIRoute) -> set[str]:
    """The permissions the route's dependencies (the ``require`` closures) actually check."""
    found: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None and dep.call.__name__.startswith("require_"):
            found.add(dep.call.__name__.removeprefix("require_").replace("_", "."))
        stack.extend(dep.dependencies)
    return found


def test_every_console_route_is_guarded_by_the_api_dependency() -> None:
    missing, unknown, mismatched = [], [], []
    routes = list(console_routes())
    assert len(routes) > 15
    for route in routes:
        assert isinstance(route, ConsoleRoute), route.path  # refusals rendered as pages, not JSON
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) in OPEN:
                assert declared(route) is None
                continue
            if (method, route.path) in ANY_SIGNED_IN:
                assert declared(route) == {SIGNED_IN}, route.path
                continue
            permission = (route.openapi_extra or {}).get(PERMISSION_KEY)
            if permission is None:
                missing.append(f"{method} {route.path}")
            elif permission not in PERMISSIONS:
                unknown.append(f"{method} {route.path}: {permission}")
            elif _checked_permissions(route) != {permission}:
                mismatched.append(
                    f"{method} {route.path}: declares {permission}, checks {_checked_permissions(route)}"
                )
    assert not missing, f"console routes without **guarded(...): {missing}"
    assert not unknown
    assert not mismatched


def test_declared_permissions_match_what_the_pages_check() -> None:
    declared_by = {
        (m, r.path): (r.openapi_extra or {}).get(PERMISSION_KEY) for r in console_routes() for m in r.methods
    }
    assert declared_by[("GET", "/notifications")] == "notifications.read"
    assert declared_by[("POST", "/notifications/{notification_id}/retry")] == "notifications.retry"
    assert declared_by[("GET", "/oncall")] == "oncall.read"
    assert declared_by[("GET", "/audit")] == "audit.read"
    assert declared_by[("GET", "/charts")] == "metrics.read"
    assert declared_by[("POST", "/policies/{name}")] == "policies.manage"
    assert declared_by[("POST", "/actions/{action_id}/execute")] == "actions.execute"


def test_the_password_page_needs_a_signed_in_user_only() -> None:
    route = next(r for r in console_routes() if r.path == PASSWORD_PAGE and "POST" in r.methods)
    calls = [d.call for d in route.dependant.dependencies]
    assert current_actor in calls


def test_guarded_refuses_an_unknown_permission() -> None:
    with pytest.raises(ValueError, match=r"Unknown permission 'alerts\.fly'"):
        guarded("alerts.fly")
