"""A case from a screening hit → SAR draft → approvals by the compliance officer and the legal
representative (bound to the report's content) → PDF and JSON → filed → the case closed as reported."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import FIXTURES, LISTED
from fictra.audit.models import AuditEntry
from fictra.auth.actor import Actor
from fictra.clock import FakeClock
from fictra.compliance.cases import approve_sar, draft_sar, file_sar, open_case, render_sar, transition
from fictra.compliance.kyc import KycInput, upsert_kyc
from fictra.compliance.lists import import_list
from fictra.compliance.screening import load_index, rescreen
from fictra.errors import ConflictError, PermissionDeniedError


def _actor(name: str, role: str) -> Actor:
    return Actor(None, name, (role,), frozenset(), "api")


OFFICER, LEGAL, VIEWER = (
    _actor("olive", "compliance_officer"),
    _actor("lee", "legal"),
    _actor("vic", "viewer"),
)
NARRATIVE = "Participant Zeta Clearing's settlement address is listed by OFAC (LAZARUS TEST GROUP)."


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage is covered in test_lists
async def test_case_to_filed_report(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions.begin() as s:
        await upsert_kyc(
            s,
            KycInput(participant="bank-z", name="Zeta Clearing", addresses=(LISTED,)),
            actor="co",
            clock=clock,
        )
        data = (FIXTURES / "sdn_advanced_v1.xml").read_bytes()
        await import_list(
            s,
            list_name="ofac-sdn",
            fmt="ofac_sdn_xml",
            data=data,
            file_name="v1.xml",
            actor="co",
            clock=clock,
        )
        await rescreen(s, index=await load_index(s), threshold=0.9, clock=clock)
    async with sessions.begin() as s:
        case = await open_case(s, subject=LISTED.upper().replace("0X", "0x"), actor=OFFICER, clock=clock)
        case_id = case.id
        assert (case.state, case.assignee, len(case.hit_ids)) == ("open", "olive", 1)
        await transition(
            s, case_id=case_id, to_state="investigating", actor=OFFICER, clock=clock, note="checking"
        )
        sar = await draft_sar(s, case_id=case_id, narrative=NARRATIVE, actor=OFFICER, clock=clock)
        sar_id = sar.id
    with pytest.raises(ConflictError, match="cannot close as reported: no report of it is filed"):
        async with sessions.begin() as s:
            await transition(
                s, case_id=case_id, to_state="closed", actor=OFFICER, clock=clock, resolution="reported"
            )
    with pytest.raises(PermissionDeniedError, match="compliance_officer or legal"):
        async with sessions.begin() as s:
            await approve_sar(s, sar_id=sar_id, actor=VIEWER, clock=clock)
    async with sessions.begin() as s:
        first = await approve_sar(s, sar_id=sar_id, actor=OFFICER, clock=clock)
    assert (
        not first.satisfied
        and first.missing == "1 more approval(s) from compliance_officer or legal; an approval from a legal"
    )
    with pytest.raises(ConflictError, match="not approved: missing"):
        async with sessions.begin() as s:
            await file_sar(s, sar_id=sar_id, reference="FIU-2027-0001", actor=OFFICER, clock=clock)
    async with sessions.begin() as s:
        second = await approve_sar(s, sar_id=sar_id, actor=LEGAL, clock=clock)
        assert second.satisfied and second.counted == ("lee", "olive")
        await file_sar(s, sar_id=sar_id, reference="FIU-2027-0001", actor=OFFICER, clock=clock)
        await transition(
            s, case_id=case_id, to_state="closed", actor=OFFICER, clock=clock, resolution="reported"
        )
    async with sessions() as s:
        pdf, pdf_type = await render_sar(s, sar_id=sar_id, fmt="pdf")
        doc, _ = await render_sar(s, sar_id=sar_id, fmt="json")
        actions = [e.action for e in (await s.scalars(select(AuditEntry).order_by(AuditEntry.idx))).all()]
    assert pdf.startswith(b"%PDF") and pdf_type == "application/pdf"
    report = json.loads(doc)
    assert (
        report["subject"] == LISTED and report["reference"] == "FIU-2027-0001" and report["state"] == "filed"
    )
    assert report["activity"]["screening_hits"][0]["entry"] == "41001" and report["narrative"] == NARRATIVE
    assert [a for a in actions if a.startswith("compliance.case") or a.startswith("compliance.sar")] == [
        "compliance.case_open",
        "compliance.case_state",
        "compliance.sar_draft",
        "compliance.sar_approve",
        "compliance.sar_approve",
        "compliance.sar_file",
        "compliance.case_state",
    ]
