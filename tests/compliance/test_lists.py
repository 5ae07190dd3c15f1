"""Importing lists: versioned snapshot, exact diff, sha256 in the audit log; a malformed file changes
nothing."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import FIXTURES
from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.compliance.formats import ListRefused
from fictra.compliance.lists import active_versions, import_list
from fictra.errors import ConflictError


async def _import(session: AsyncSession, name: str, clock: FakeClock, fmt: str = "ofac_sdn_xml") -> object:
    data = (FIXTURES / name).read_bytes()
    return await import_list(
        session, list_name="ofac-sdn", fmt=fmt, data=data, file_name=name, actor="officer", clock=clock
    )


async def test_versions_diff_and_audit(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions.begin() as session:
        first = await _import(session, "sdn_advanced_v1.xml", clock)
    assert first.version.version == 1 and first.diff.counts == {"added": 2, "removed": 0, "changed": 0}
    async with sessions.begin() as session:
        second = await _import(session, "sdn_advanced_v2.xml", clock)
    diff = second.diff
    assert second.version.version == 2
    assert [d["key"] for d in diff.added] == ["41003"]
    assert [(d["key"], d["addresses"]) for d in diff.removed] == [
        ("41002", ["0x7f367cc41522ce07553e823bf3be79a889debe1b"])
    ]
    assert [d["key"] for d in diff.changed] == ["41001"]  # an alias added, addresses unchanged
    assert diff.changed[0]["addresses_added"] == [] and diff.changed[0]["addresses_removed"] == []
    async with sessions() as session:
        active = await active_versions(session)
        assert [(v.list_name, v.version) for v in active] == [("ofac-sdn", 2)]
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.list_import"))
        ).all()
    sha = hashlib.sha256((FIXTURES / "sdn_advanced_v2.xml").read_bytes()).hexdigest()
    assert [e.target for e in entries] == ["list:ofac-sdn:1", "list:ofac-sdn:2"]
    assert entries[1].after["sha256"] == sha
    assert entries[1].after["diff"] == {"added": 1, "removed": 1, "changed": 1}


async def test_malformed_files_keep_previous_version(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        await _import(session, "sdn_advanced_v1.xml", clock)
    for name, fmt in (
        ("sdn_truncated.xml", "ofac_sdn_xml"),
        ("sdn_wrong_namespace.xml", "ofac_sdn_xml"),
        ("sdn_missing_column.csv", "ofac_csv"),
    ):
        with pytest.raises(ListRefused, match=name):
            async with sessions.begin() as session:
                await import_list(
                    session,
                    list_name="ofac-sdn",
                    fmt=fmt,
                    data=(FIXTURES / name).read_bytes(),
                    file_name=name,
                    actor="officer",
                    clock=clock,
                )
    with pytest.raises(ConflictError, match="identical to version 1"):
        async with sessions.begin() as session:
            await _import(session, "sdn_advanced_v1.xml", clock)
    async with sessions() as session:
        assert [(v.version, v.file_name) for v in await active_versions(session)] == [
            (1, "sdn_advanced_v1.xml")
        ]
