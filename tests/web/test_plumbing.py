"""The console and the API share their plumbing: one status for every error (:func:`status_for`), one
permission decision rendered two ways, and no inline script for the CSP to block."""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.rig import ApiRig
from fictra.api.deps import guarded
from fictra.api.errors import status_for
from fictra.errors import (
    AuthenticationError,
    ChainError,
    ConfigError,
    ConflictError,
    FictraError,
    NotFoundError,
    PermissionDeniedError,
    RpcError,
    StorageError,
    UsageError,
)
from fictra.web.access import ConsoleRoute, SignedIn
from fictra.web.templating import TEMPLATES
from web.conftest import LEAD, VIEWER, client_for, sign_in

RAISED: dict[str, FictraError] = {
    "chain": ChainError("The RPC endpoint 'node1' timed out."),
    "rpc": RpcError("Endpoint 'node1' answered garbage."),
    "storage": StorageError("The database is unreachable."),
    "conflict": ConflictError("Incident 3 is closed."),
    "not_found": NotFoundError("No incident with id 9."),
    "denied": PermissionDeniedError("'u' lacks the permission 'x'."),
    "usage": UsageError("Severity 'P7' is not one of P0, P1, P2, P3."),
    "config": ConfigError("config/incidents.yaml: key 'x' is unknown."),
}
EXPECTED = {
    "chain": 503,
    "rpc": 503,
    "storage": 503,
    "conflict": 409,
    "not_found": 404,
    "denied": 403,
    "usage": 422,
    "config": 422,
}


def test_status_for_is_the_one_table() -> None:
    assert {name: status_for(exc) for name, exc in RAISED.items()} == EXPECTED
    assert status_for(AuthenticationError("no")) == 401
    assert status_for(FictraError("unknown kind")) == 500
    assert status_for(OverflowError("big")) == 422
    assert status_for(RuntimeError("bug")) == 500


def _install_raisers(rig: ApiRig) -> None:
    """The same failure raised by an API route and by a console page, behind the same permission."""
    api = APIRouter()
    console = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

    @api.get("/api/v1/test-raise/{name}", **guarded("alerts.read"))
    async def api_raise(name: str) -> dict[str, str]:
        raise RAISED[name]

    @console.get("/test-raise/{name}", **guarded("alerts.read"))
    async def page_raise(request: Request, name: str, actor: SignedIn) -> Response:
        raise RAISED[name]

    @console.get("/test-audit", **guarded("audit.read"))
    async def page_audit(request: Request, actor: SignedIn) -> Response:
        return Response("seen")

    rig.app.include_router(api)
    rig.app.include_router(console)


@pytest.mark.parametrize("name", sorted(RAISED))
async def test_the_console_shows_the_status_the_api_returns(rig: ApiRig, name: str) -> None:
    _install_raisers(rig)
    async with client_for(rig) as client:
        assert (await sign_in(client, LEAD)).status_code == 303
        api = await client.get(f"/api/v1/test-raise/{name}")
        page = await client.get(f"/test-raise/{name}")
    assert api.status_code == page.status_code == EXPECTED[name]
    assert api.headers["content-type"].startswith("application/json")
    assert page.headers["content-type"].startswith("text/html")
    message = RAISED[name].user_message
    assert api.json()["error"]["message"] == message
    # the same words, and the request id the response carries, on the page
    assert message.replace("'", "&#39;") in page.text
    assert page.headers["x-request-id"] in page.text
    assert api.json()["error"]["request_id"] == api.headers["x-request-id"]


async def test_one_permission_decision_two_renderings(rig: ApiRig) -> None:
    _install_raisers(rig)
    async with client_for(rig) as anonymous:
        api = await anonymous.get("/api/v1/test-raise/chain")
        assert api.status_code == 401 and api.json()["error"]["code"] == "unauthorized"
        page = await anonymous.get("/test-audit")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/test-audit"
    async with client_for(rig) as viewer:
        assert (await sign_in(viewer, VIEWER)).status_code == 303
        refused = await viewer.get("/test-audit")  # the viewer role has no audit.read
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert "Not allowed" in refused.text and "audit.read" in refused.text
        api_refused = await viewer.get("/api/v1/audit/entries")
        assert api_refused.status_code == 403 and "audit.read" in api_refused.json()["error"]["message"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)


def test_templates_have_no_inline_script_for_the_csp_to_block() -> None:
    found = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, HANDLER, re.compile(r"javascript:", re.I), re.compile(r"hx-on", re.I)):
            found += [f"{path.name}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not found, found
    # the rule can fail
    assert INLINE_SCRIPT.search("<script>alert(1)</script>") and HANDLER.search('<a onclick="x()">')
    assert not INLINE_SCRIPT.search('<script src="/static/console.js" defer></script>')
