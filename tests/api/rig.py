"""An API rig: the real app on a migrated database, real users per role with real API tokens (AUTH module),
a few alerts, and an httpx client through ASGITransport."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.api.app import create_app
from fictra.api.context import AppContext
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import PERMISSIONS, ROLE_ALIASES, RoleMap, load_roles
from fictra.auth.policy import DEFAULT_POLICY, Source
from fictra.auth.service import create_user, login
from fictra.auth.tokens import NewToken, create_token
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, session_factory
from fictra.metrics import new_registry
from fictra.platform.config_set import load_config_set
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / "config"
PASSWORD = "Correct-Horse-Battery-Staple-9"


def role_names(roles: RoleMap) -> list[str]:
    """Every role of config/roles.yaml plus its aliases."""
    return [*roles.names(), *sorted(ROLE_ALIASES)]


@dataclass
class ApiRig:
    app: FastAPI
    context: AppContext
    client: httpx.AsyncClient
    clock: FakeClock
    sessions: async_sessionmaker[AsyncSession]
    roles: RoleMap
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer token
    token_ids: dict[str, int] = field(default_factory=dict)  # role -> that token's id
    alert_ids: list[int] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def session_headers(self, role: str) -> dict[str, str]:
        """Sign ``role``'s user in with their password (AUTH's login) and return the headers a browser
        would send: both cookies and the CSRF header."""
        result = await login(
            self.sessions,
            username=username_of(role),
            password=PASSWORD,
            source=Source("127.0.0.1", "pytest"),
            clock=self.clock,
        )
        return {
            "Cookie": f"fictra_session={result.session_token}; fictra_csrf={result.csrf_token}",
            "X-CSRF-Token": result.csrf_token,
        }


def finding(i: int, severity: Severity = Severity.P1, *, network: str = "devnet") -> Finding:
    return Finding(
        monitor="oracle-health",
        severity=severity,
        summary=f"Feed GOLD deviates ({i})",
        labels={"feed": "GOLD", "case": str(i)},
        network=network,
        block=BlockRef(100 + i, "0x" + f"{i:064x}"),
        evidence={"observed": i},
    )


def username_of(role: str) -> str:
    return f"u-{role.replace('_', '-')}"


async def add_user(rig: ApiRig, *, username: str, role: str) -> NewToken:
    """A user with ``role`` and a token scoped to every permission the role holds."""
    async with rig.sessions.begin() as db:
        user = await create_user(
            db,
            username=username,
            roles=[role],
            password=PASSWORD,
            role_map=rig.roles,
            actor=SYSTEM,
            clock=rig.clock,
        )
        scopes = sorted(rig.roles.permissions_of([role]) & set(PERMISSIONS))
        new = await create_token(
            db,
            user=user,
            scopes=scopes,
            expires_in=timedelta(days=1),
            role_map=rig.roles,
            actor=SYSTEM,
            clock=rig.clock,
            policy=DEFAULT_POLICY,
        )
    return new


def config_copy(target: Path) -> Path:
    """The repo's network, alerting, monitors, rules and roles config (only what the API reads), so other
    config files being added do not change these tests."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("network.yaml", "alerting.yaml", "roles.yaml"):
        shutil.copy(CONFIG_DIR / name, target / name)
    for sub in ("monitors", "rules"):
        shutil.copytree(CONFIG_DIR / sub, target / sub)
    return target


@asynccontextmanager
async def api_rig(
    database_url: str, *, roles: list[str] | None = None, alerts: int = 3
) -> AsyncIterator[ApiRig]:
    tmp = tempfile.TemporaryDirectory(prefix="fictra-api-")
    config_dir = config_copy(Path(tmp.name) / "config")
    engine = make_engine(database_url)
    clock = FakeClock()
    sessions = session_factory(engine)
    role_map = load_roles(config_dir / "roles.yaml")
    status: dict[str, Any] = {
        "network": "devnet",
        "head": 120,
        "last_block": 118,
        "lag": 2,
        "counters": {"blocks": 18},
        "endpoints": [{"name": "local", "url": "http://127.0.0.1:8545", "state": "healthy", "head": 120}],
    }
    context = AppContext(
        settings=load_settings(config_dir=config_dir, data_dir=Path(tmp.name) / "data"),
        sessions=sessions,
        metrics=new_registry(),
        clock=clock,
        status=lambda: status,
        config=load_config_set(config_dir),
        roles=role_map,
    )
    app = create_app(context=context)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            rig = ApiRig(app, context, client, clock, sessions, role_map, status=status)
            for role in roles if roles is not None else ["admin"]:
                new = await add_user(rig, username=username_of(role), role=role)
                rig.tokens[role], rig.token_ids[role] = new.token, new.id
            async with sessions.begin() as db:
                result = await apply_findings(db, [finding(i) for i in range(alerts)], head=200, clock=clock)
            rig.alert_ids = sorted({c.alert_id for c in result.changes})
            yield rig
    finally:
        await engine.dispose()
        tmp.cleanup()
