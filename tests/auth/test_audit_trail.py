"""Every state change of access control is on the audit record, in the same transaction, and never with
a secret (password, hash, token) in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.models import AuditEntry
from fictra.auth.actor import cli_actor
from fictra.auth.models import User
from fictra.auth.permissions import RoleMap
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import create_user, disable_user, get_user, set_password
from fictra.auth.tokens import create_token, revoke_token
from fictra.clock import FakeClock
from fictra.errors import ConflictError

from .conftest import PASSWORD


async def test_changes_are_audited_without_secrets(
    sessions: async_sessionmaker[AsyncSession], roles: RoleMap, clock: FakeClock
) -> None:
    ops = cli_actor("cli:ops")
    async with sessions.begin() as db:
        await create_user(
            db, username="alice", roles=["viewer"], password=PASSWORD, role_map=roles, actor=ops, clock=clock
        )
    async with sessions.begin() as db:
        user = await get_user(db, username="alice")
        new = await create_token(
            db,
            user=user,
            scopes=["alerts.read"],
            expires_in=timedelta(days=1),
            role_map=roles,
            actor=ops,
            clock=clock,
            policy=DEFAULT_POLICY,
        )
        await revoke_token(db, token_id=new.id, actor=ops, clock=clock)
        await revoke_token(db, token_id=new.id, actor=ops, clock=clock)  # already revoked: no second entry
        await set_password(db, user=user, password="another good password", actor=ops, clock=clock)
    async with sessions.begin() as db:
        await disable_user(db, username="alice", actor=ops, clock=clock, reason="left the company")
    with pytest.raises(ConflictError):  # a refused change writes nothing
        async with sessions.begin() as db:
            await create_user(
                db,
                username="alice",
                roles=["viewer"],
                password=PASSWORD,
                role_map=roles,
                actor=ops,
                clock=clock,
            )
    async with sessions() as db:
        entries = (await db.execute(select(AuditEntry).order_by(AuditEntry.idx))).scalars().all()
        user_row = (await db.execute(select(User))).scalar_one()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("cli:ops", "user.create", "user:alice"),
        ("cli:ops", "token.create", "user:alice"),
        ("cli:ops", "token.revoke", f"token:{new.id}"),
        ("cli:ops", "user.password", "user:alice"),
        ("cli:ops", "user.disable", "user:alice"),
    ]
    assert entries[0].after == {"username": "alice", "roles": ["viewer"], "disabled": False}
    assert entries[4].before["disabled"] is False and entries[4].after["disabled"] is True
    assert entries[4].reason == "left the company"
    assert entries[2].after["revoked"] is True and entries[2].after["scopes"] == ["alerts.read"]
    text = repr([(e.before, e.after, e.reason) for e in entries])
    for secret in (PASSWORD, "another good password", new.token, user_row.password_hash):
        assert secret not in text
