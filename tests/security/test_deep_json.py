"""Finding 1: one anonymous request with a deeply nested JSON body killed the process (SIGSEGV: py_ecc
raises the recursion limit to 100,000, json.loads then overflows the C stack). Against a real server
process: the body is refused before parsing and the server still answers."""

from __future__ import annotations

import httpx

from fictra.api.limits import MAX_JSON_DEPTH

from .conftest import Server

DEPTH = 150_000


def test_deep_json_login_is_refused_and_the_server_lives(server: Server) -> None:
    body = b"[" * DEPTH + b"]" * DEPTH  # 300 KB
    answer = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code in (413, 422)  # login bodies are small: the size limit answers first
    assert answer.json()["error"]["code"] == "invalid"
    assert server.alive()
    assert httpx.get(f"{server.base_url}/healthz", timeout=5).json() == {"status": "ok"}


def test_deep_json_within_the_size_limit_gets_422_naming_the_limit(server: Server) -> None:
    depth = 5_000  # 10 KB: under the login route's size limit, far over the depth limit
    body = b'{"username": ' + b"[" * depth + b"]" * depth + b"}"
    answer = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 422
    message = answer.json()["error"]["message"]
    assert f"the limit is {MAX_JSON_DEPTH}" in message and str(depth + 1) in message
    assert server.alive()
    assert httpx.get(f"{server.base_url}/healthz", timeout=5).status_code == 200


def test_deep_json_without_content_type_is_refused_too(server: Server) -> None:
    depth = 4_000
    answer = httpx.post(
        f"{server.base_url}/api/v1/auth/login", content=b"[" * depth + b"]" * depth, timeout=30
    )
    assert answer.status_code == 422
    assert server.alive()
