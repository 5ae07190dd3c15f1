"""Every console route declares the permission its handler checks (``x-permission``), so the API's
permission matrix (tests/api/test_permission_matrix.py) holds every role to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from fictra.api.deps import PERMISSION_KEY
from fictra.auth.permissions import PERMISSIONS
from fictra.web.access import needs
from fictra.web.views import router

# signing in and out, and the static assets: no permission to declare
OPEN = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/static/{path:path}")}


def console_routes() -> Iterator[APIRoute]:
    for ctx in iter_route_contexts(router.routes):
        assert isinstance(ctx.route, APIRoute)
        yield ctx.route


def test_every_console_route_declares_a_known_permission() -> None:
    missing, unknown = [], []
    routes = list(console_routes())
    assert len(routes) > 15
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) in OPEN:
                continue
            permission = (route.openapi_extra or {}).get(PERMISSION_KEY)
            if permission is None:
                missing.append(f"{method} {route.path}")
            elif permission not in PERMISSIONS:
                unknown.append(f"{method} {route.path}: {permission}")
    assert not missing, f"console routes without **needs(...): {missing}"
    assert not unknown


def test_declared_permissions_match_what_the_pages_check() -> None:
    declared = {
        (m, r.path): (r.openapi_extra or {}).get(PERMISSION_KEY) for r in console_routes() for m in r.methods
    }
    assert declared[("GET", "/notifications")] == "notifications.read"
    assert declared[("POST", "/notifications/{notification_id}/retry")] == "notifications.retry"
    assert declared[("GET", "/oncall")] == "oncall.read"
    assert declared[("GET", "/audit")] == "audit.read"
    assert declared[("GET", "/charts")] == "metrics.read"


def test_needs_refuses_an_unknown_permission() -> None:
    with pytest.raises(ValueError, match=r"Unknown permission 'alerts\.fly'"):
        needs("alerts.fly")
