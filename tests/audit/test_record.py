"""record(): entries are appended in the caller's transaction, hash-chained, and validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.audit.canonical import entry_hash
from fictra.audit.models import GENESIS_HASH, AuditEntry
from fictra.audit.service import get_entry, head, list_entries, record
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import NotFoundError, UsageError


@dataclass(frozen=True)
class _Actor:
    username: str


async def test_entries_chain_from_genesis(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        first = await record(
            session,
            actor="alice",
            action="alert.acknowledge",
            target="alert:1",
            before={"acknowledged": False},
            after={"acknowledged": True, "at": clock.now(), "amount": Decimal("1.5")},
            reason="looking",
            clock=clock,
        )
        clock.advance(1.25)
        second = await record(
            session, actor=_Actor("bob"), action="user.create", target="user:bob", clock=clock
        )
    assert (first.idx, second.idx) == (0, 1)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.entry_hash
    async with sessions() as session:
        stored = (await session.execute(select(AuditEntry).order_by(AuditEntry.idx))).scalars().all()
        assert await head(session) == (2, second.entry_hash)
        assert (await get_entry(session, 1)).actor == "bob"
        with pytest.raises(NotFoundError, match="index 7; the log has 2 entries"):
            await get_entry(session, 7)
    assert stored[0].after == {"acknowledged": True, "at": "2026-01-01T00:00:00.000000Z", "amount": "1.5"}
    for row in stored:  # re-hashing what came back from the database gives the stored digest
        assert row.entry_hash == entry_hash(
            index=row.idx,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            before=row.before,
            after=row.after,
            reason=row.reason,
            prev_hash=row.prev_hash,
        )
    assert stored[1].at == datetime(2026, 1, 1, 0, 0, 1, 250000, tzinfo=UTC)


async def test_rolled_back_change_leaves_no_entry(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            await record(session, actor="alice", action="alert.resolve", target="alert:1", clock=clock)
            raise RuntimeError("the state change failed")
    async with sessions.begin() as session:
        entry = await record(session, actor="alice", action="alert.resolve", target="alert:1", clock=clock)
    assert entry.idx == 0 and entry.prev_hash == GENESIS_HASH


async def test_list_filters_and_pages(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for i in range(6):
            await record(
                session,
                actor="alice" if i % 2 else "bob",
                action="alert.acknowledge" if i < 3 else "silence.create",
                target=f"t:{i}",
                clock=clock,
            )
    async with sessions() as session:
        assert [e.idx for e in await list_entries(session, limit=4)] == [5, 4, 3, 2]
        assert [e.idx for e in await list_entries(session, limit=4, before_index=2)] == [1, 0]
        assert [e.idx for e in await list_entries(session, action="alert.*")] == [2, 1, 0]
        assert [e.idx for e in await list_entries(session, action="silence.create", actor="bob")] == [4]
        assert [e.idx for e in await list_entries(session, target="t:3")] == [3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actor": "", "action": "a.b", "target": "x"}, "'actor' is empty"),
        ({"actor": object(), "action": "a.b", "target": "x"}, "has no username"),
        ({"actor": "a", "action": " ", "target": "x"}, "'action' is empty"),
        ({"actor": "a", "action": "a.b", "target": "x" * 301}, "'target' is 301 characters"),
        ({"actor": "a", "action": "a.b", "target": "x\x00y"}, "'target' contains a NUL"),
        ({"actor": "a", "action": "a.b", "target": "x", "reason": "\x00"}, "'reason' contains a NUL"),
    ],
)
async def test_bad_fields_are_usage_errors(
    engine: AsyncEngine, clock: FakeClock, kwargs: dict[str, object], message: str
) -> None:
    async with session_factory(engine).begin() as session:
        with pytest.raises(UsageError, match=message):
            await record(session, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_jsonable_normalises_what_json_cannot_hold() -> None:
    from enum import Enum

    from pydantic import BaseModel

    from fictra.audit.canonical import dumps, jsonable

    class Color(Enum):
        RED = "red"

    class Model(BaseModel):
        when: datetime

    @dataclass
    class Point:
        x: int

    value = {
        1: float("nan"),
        "inf": float("-inf"),
        "set": {3, 1, 2},
        "tuple": (1, "a"),
        "enum": Color.RED,
        "bytes": b"\x01\xff",
        "naive": datetime(2026, 1, 1, 12, 0),
        "aware": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        "date": datetime(2026, 1, 1, tzinfo=UTC).date(),
        "decimal": Decimal("0.10"),
        "model": Model(when=datetime(2026, 1, 1, tzinfo=UTC)),
        "dataclass": Point(2),
        "other": object,
    }
    out = jsonable(value)
    assert out["1"] == "nan" and out["inf"] == "-inf" and out["set"] == [1, 2, 3] and out["tuple"] == [1, "a"]
    assert out["enum"] == "red" and out["bytes"] == "0x01ff" and out["decimal"] == "0.10"
    assert out["naive"] == "2026-01-01T12:00:00" and out["aware"] == "2026-01-01T12:00:00.000000Z"
    assert out["date"] == "2026-01-01" and out["model"] == {"when": "2026-01-01T00:00:00Z"}
    assert out["dataclass"] == {"x": 2} and out["other"] == "<class 'object'>"
    assert dumps({"b": 1, "a": [True, None]}) == '{"a":[true,null],"b":1}'
    with pytest.raises(ValueError, match="timezone-aware"):
        entry_hash(
            index=0, at=datetime(2026, 1, 1), actor="a", action="b", target="c", before=None, after=None,
            reason=None, prev_hash=GENESIS_HASH,
        )  # fmt: skip
