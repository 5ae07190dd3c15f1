"""First start: with no user at all, create ``admin`` with a random one-time password.

The caller prints the password to the terminal (never to a log); the admin must change it at first login.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM
from fictra.auth.passwords import generate_password
from fictra.auth.permissions import RoleMap, default_roles, roles_from
from fictra.auth.service import count_users, create_user
from fictra.clock import Clock

ADMIN = "admin"


async def ensure_admin(
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock,
    config_dir: Path | None = None,
    role_map: RoleMap | None = None,
) -> str | None:
    """Create ``admin`` (role admin) if there are no users; return its one-time password (else None)."""
    roles = role_map or (roles_from(config_dir) if config_dir is not None else default_roles())
    async with sessions.begin() as db:
        if await count_users(db) > 0:
            return None
        password = generate_password()
        await create_user(
            db,
            username=ADMIN,
            roles=[ADMIN],
            password=password,
            role_map=roles,
            actor=SYSTEM,
            clock=clock,
            must_change_password=True,
        )
    return password
