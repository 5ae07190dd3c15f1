"""The browser rig: a devnet with the FICTRA system, the platform following it, the HTTP app (API + console)
served on a free loopback port, real users per role, and Debian's Chromium driven by Playwright.

Chromium comes from ``make browser-deps`` (apt-get, /usr/bin/chromium); the suite skips with the reason
when it is missing, except under CI=true, where it fails. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import Running, start
from fictra.api.app import create_app, serve
from fictra.api.context import AppContext
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user

CHROMIUM = Path(os.environ.get("FICTRA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "Browser-Test-Passphrase-42"
USERS = {"lead": "technical_lead", "viewer": "viewer", "auditor": "security_officer"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(running: Running) -> dict[str, Any]:
    f = running.platform.follower.status()
    names = [ep.name for ep in running.platform.config.network.endpoints]
    return {
        "network": f.network,
        "head": f.head,
        "last_block": f.last_block,
        "lag": f.lag,
        "counters": f.counters,
        "endpoints": [
            {"name": n, "url": e.url, "state": str(e.state), "head": e.last_head}
            for n, e in zip(names, f.endpoints, strict=False)
        ],
    }


@dataclass
class Console:
    running: Running
    base_url: str
    browser: Any  # playwright Browser

    async def page(self, *, width: int = 1366, height: int = 768) -> Any:
        context = await self.browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        return await context.new_page()

    async def signed_in(self, username: str, **viewport: int) -> Any:
        page = await self.page(**viewport)
        await page.goto(f"{self.base_url}/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.base_url}/")
        return page


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)."
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
async def console(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    _require_chromium()
    from playwright.async_api import async_playwright

    port = _free_port()
    # alert response runs as under `fictra up`: SLA clocks and the escalation path on the shipped config
    running = await start(
        tmp_path_factory.mktemp("browser"), response=True, link_base=f"http://127.0.0.1:{port}"
    )
    stop = asyncio.Event()
    server: asyncio.Task[None] | None = None
    try:
        platform = running.platform
        roles = load_roles(platform.settings.config_dir / "roles.yaml")
        async with platform.sessions.begin() as db:
            for username, role in USERS.items():
                await create_user(
                    db,
                    username=username,
                    roles=[role],
                    password=PASSWORD,
                    role_map=roles,
                    actor=SYSTEM,
                    clock=platform.clock,
                )
        context = AppContext(
            settings=platform.settings,
            sessions=platform.sessions,
            metrics=platform.metrics,
            clock=platform.clock,
            status=lambda: _status(running),
            platform=platform,
            roles=roles,
        )
        server = asyncio.create_task(
            serve(create_app(context=context), host="127.0.0.1", port=port, stop=stop)
        )
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Console(running, f"http://127.0.0.1:{port}", browser)
            finally:
                await browser.close()
    finally:
        stop.set()
        if server is not None:
            await server
        await running.close()
