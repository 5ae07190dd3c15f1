"""The hostile-input boundary and security headers through the real app (ASGI, real SQLite): oversized
bodies 413, deep JSON 422 before parsing, numbers out of int64 range 422 (was OverflowError -> 500),
headers on every answer."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.rig import ApiRig, api_rig
from fictra.api.limits import (
    INT64_MAX,
    MAX_JSON_DEPTH,
    SAFE_RECURSION_LIMIT,
    body_limit,
    cap_recursion_limit,
    json_depth,
)
from fictra.db.engine import migrate


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate(url)
    async with api_rig(url, roles=["admin"], alerts=1) as built:
        yield built


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[[[[[["}', 1),  # brackets inside strings do not count
        (b'{"a": "\\"[[[[", "b": [[]]}', 3),  # an escaped quote does not end the string
        (b'["\\\\", [[]]]', 3),  # an escaped backslash does not escape the quote after it
        (b"[" * 1000 + b"]" * 1000, 1000),
        (b"[1, 2], [3], [[4]]", 2),
    ],
)
def test_json_depth_scan(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth


def test_recursion_limit_is_capped_after_the_eth_stack() -> None:
    import py_ecc  # noqa: F401  - raises the limit to 100,000 on first import

    sys.setrecursionlimit(100_000)  # as py_ecc's import does
    assert cap_recursion_limit() == SAFE_RECURSION_LIMIT
    assert sys.getrecursionlimit() == SAFE_RECURSION_LIMIT


async def test_deep_json_is_422_naming_the_limit_on_every_json_route(rig: ApiRig) -> None:
    body = b'{"alerts": ' + b"[" * 200 + b"]" * 200 + b"}"
    for path in ("/api/v1/inbound/alerts", "/api/v1/inbound/alertmanager", "/api/v1/silences"):
        answer = await rig.client.post(
            path, content=body, headers={**rig.auth("admin"), "content-type": "application/json"}
        )
        assert answer.status_code == 422, path
        error = answer.json()["error"]
        assert error["message"] == f"The JSON body is nested 201 levels deep; the limit is {MAX_JSON_DEPTH}."
        assert error["request_id"] == answer.headers["x-request-id"]


async def test_oversized_bodies_are_413_before_reading(rig: ApiRig) -> None:
    limit = body_limit("/api/v1/auth/login")
    answer = await rig.client.post(
        "/api/v1/auth/login",
        content=b'{"username": "' + b"a" * limit + b'"}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert f"larger than {limit} bytes" in answer.json()["error"]["message"]
    # inbound webhooks get a larger class: a 100 KB valid batch passes the boundary
    alerts = ",".join(f'{{"name": "n{i}", "summary": "{"x" * 80}"}}' for i in range(1000))
    answer = await rig.client.post(
        "/api/v1/inbound/alerts",
        content=f'{{"alerts": [{alerts}]}}'.encode(),
        headers={**rig.auth("admin"), "content-type": "application/json"},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/alerts/{2**64}",
        f"/api/v1/alerts/{10**40}",
        f"/api/v1/notifications/{2**63}",
        f"/api/v1/notifications?before_id={2**70}",
        f"/api/v1/tokens/{-(2**64)}",
    ],
)
async def test_numbers_out_of_int64_range_are_422_not_500(rig: ApiRig, url: str) -> None:
    method = "DELETE" if "/tokens/" in url else "GET"
    answer = await rig.client.request(method, url, headers=rig.auth("admin"))
    assert answer.status_code == 422, answer.text
    assert f"at most {INT64_MAX}" in answer.json()["error"]["message"]


async def test_largest_int64_id_is_a_plain_404(rig: ApiRig) -> None:
    answer = await rig.client.get(f"/api/v1/alerts/{INT64_MAX}", headers=rig.auth("admin"))
    assert answer.status_code == 404


async def test_security_headers_on_every_answer(rig: ApiRig) -> None:
    for method, url, headers in (
        ("GET", "/healthz", {}),
        ("GET", "/api/v1/alerts", rig.auth("admin")),
        ("GET", "/api/v1/alerts", {}),  # 401
        ("GET", "/api/v1/no-such-route", {}),  # 404
        ("GET", "/login", {}),
        ("POST", "/api/v1/auth/login", {"content-type": "application/json"}),  # 422
    ):
        answer = await rig.client.request(
            method, url, headers=headers, content=b"{}" if method == "POST" else None
        )
        csp = answer.headers["content-security-policy"]
        assert (
            "frame-ancestors 'none'" in csp
            and "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        ), url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store", url


async def test_api_docs_page_is_vendored_and_under_the_strict_policy(rig: ApiRig) -> None:
    """/api/docs loaded Swagger UI from a CDN with an inline script (blank offline, CSP opened for it):
    now every asset is ours, served here, and the page has the same policy as the rest."""
    import re

    from fictra.api.headers import CSP

    answer = await rig.client.get("/api/docs")
    assert answer.status_code == 200 and answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-frame-options"] == "DENY"
    page = answer.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(refs) == 3 and all(r.startswith("/api/docs/assets/") for r in refs), refs
    assert "http" not in page and not re.search(r"<script>(?!</script>)", page)  # no inline script
    for ref in refs:
        asset = await rig.client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 100, ref
        assert asset.headers["content-security-policy"] == CSP
    bundle = await rig.client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    assert (await rig.client.get("/api/docs/assets/init.js")).text.count("/api/openapi.json") == 1
