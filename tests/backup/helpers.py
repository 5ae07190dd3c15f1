"""Helpers: fill a database to back up, edit it behind the platform's back, hold a lease."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.service import record
from fictra.audit.signing import load_signer
from fictra.clock import Clock
from fictra.db.engine import make_engine, session_factory
from fictra.jobs.models import JobLease


async def populate(*, url: str, data_dir: Path, clock: Clock, entries: int = 5) -> None:
    """``entries`` sealed audit entries, a signed checkpoint over them, one more entry after it, a free
    job lease."""
    engine = make_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            for i in range(entries):
                await record(session, actor="tester", action="test.thing", target=f"thing:{i}", clock=clock)
            session.add(JobLease(job="test.job", holder=None, expires_at=None, since=clock.now()))
        async with session_factory(engine).begin() as session:
            await create_checkpoint(session, signer=load_signer(data_dir), clock=clock)
        async with session_factory(engine).begin() as session:
            await record(session, actor="tester", action="test.after", target="thing:tail", clock=clock)
    finally:
        await engine.dispose()


async def execute(url: str, statement: str, **params: object) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement), params)
    finally:
        await engine.dispose()


async def hold_lease(url: str, *, clock: Clock, seconds: float = 60) -> None:
    """What a running platform's scheduler leaves while it runs a job: a held, unexpired lease."""
    from sqlalchemy import update

    engine = make_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            await session.execute(
                update(JobLease)
                .where(JobLease.job == "test.job")
                .values(holder="host-a:1234:abcd", expires_at=clock.now() + timedelta(seconds=seconds))
            )
    finally:
        await engine.dispose()


async def scalar(url: str, sql: str) -> object:
    """One value of a raw query against ``url``."""
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session:
            return (await session.execute(text(sql))).scalar_one()
    finally:
        await engine.dispose()
