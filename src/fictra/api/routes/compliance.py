"""The compliance API (prefix /api/v1/compliance).

GET  /lists                                list versions, newest first per list           compliance.read
GET  /lists/{name}/versions/{version}      one version with its diff (0: the one in force) compliance.read
POST /lists/{name}/import?format=          body: the file (≤ 1 MiB; larger lists by the CLI); diff,
                                           sha256 audited, re-screen, all or nothing       compliance.manage
GET  /hits?state=open|closed|false_positive|all                                           compliance.read
POST /hits/{id}/dispose                    {reason}: false positive for that list version compliance.dispose
POST /rescreen                             every known address and name                   compliance.manage
GET  /kyc                                  KYC records (hashes of documents only)          compliance.read
PUT  /kyc/{participant}                    create or update one record                     compliance.manage
POST /kyc/import                           body: CSV (docs/compliance.md), every row or none compliance.manage

GET  /cases?state=                         cases                                           compliance.read
POST /cases                                {subject, assignee}: hits, AML alerts grouped    compliance.manage
GET  /cases/{id}                           the case and its reports                        compliance.read
POST /cases/{id}/state                     {state, note, resolution}                       compliance.manage
POST /cases/{id}/sars                      {narrative}: a SAR drafted from the case        compliance.manage
POST /sars/{id}/approve                    officer + legal, bound to the content           compliance.approve
POST /sars/{id}/file                       {reference}: the filing, once approved          compliance.manage
GET  /sars/{id}/report?format=pdf|json                                                     compliance.read

GET  /reports/transactions?from=&to=&format=json|csv  volumes per participant, large transfers,
                                           by country code (block time in [from, to))      compliance.read
POST /filings/{name}/{period}/generate     a filing draft from its template                compliance.manage
GET  /filings/drafts?name=                 drafts, newest first                            compliance.read
GET  /filings/drafts/{id}                  one draft with its rendered body                compliance.read
POST /filings/drafts/{id}/review           {note}                                          compliance.manage
POST /filings/drafts/{id}/approve          a compliance officer other than the reviewer    compliance.approve
POST /filings/drafts/{id}/file             {reference}: once approved; clears a missed due compliance.manage

A malformed list or CSV is 422 naming the file and line; nothing is written.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.compliance.cases import approve_sar, draft_sar, file_sar, open_case, render_sar, transition
from fictra.compliance.filing_drafts import approve, file_draft, generate, list_drafts, review
from fictra.compliance.kyc import KycInput, import_kyc_csv, list_kyc, upsert_kyc
from fictra.compliance.lists import get_version, import_list
from fictra.compliance.queries import MAX_LIMIT, case_detail, list_cases, list_hits, list_versions
from fictra.compliance.report_models import FilingDraft as FilingDraftRow
from fictra.compliance.reports import report_csv, transaction_report
from fictra.compliance.schemas import (
    CaseView,
    HitView,
    ImportView,
    KycView,
    SarView,
    VersionDetail,
    VersionView,
)
from fictra.compliance.screening import dispose, load_index, rescreen
from fictra.errors import NotFoundError, UsageError

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
HitId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Hit id.")]
ListName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
MAX_UPLOAD = 1_000_000


class DisposeBody(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


class KycBody(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    role: str = Field(default="participant", pattern=r"^(participant|counterparty)$")
    addresses: list[str] = Field(default_factory=list, max_length=100)
    status: str = Field(default="pending", pattern=r"^(pending|approved|rejected|expired)$")
    risk_rating: str = Field(default="medium", pattern=r"^(low|medium|high)$")
    review_due: datetime | None = None
    expires_at: datetime | None = None
    documents: list[str] = Field(default_factory=list, max_length=100, description="sha256 of each document.")
    country: str = Field(default="", max_length=2, description="ISO 3166-1 alpha-2 (transaction reports).")


async def _body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_UPLOAD:
        raise UsageError(f"Upload of {len(data)} bytes is too large (at most {MAX_UPLOAD}); use the CLI.")
    return data


def _threshold(request: Request) -> float:
    return app_context(request).config_set.compliance.names.threshold


@router.get("/lists", summary="List versions", **guarded("compliance.read"))
async def lists(
    session: DbSession, name: Annotated[str | None, Query(max_length=64)] = None
) -> list[VersionView]:
    return [VersionView.model_validate(v) for v in await list_versions(session, list_name=name)]


@router.get(
    "/lists/{name}/versions/{version}", summary="One list version and its diff", **guarded("compliance.read")
)
async def list_version(
    session: DbSession, name: ListName, version: Annotated[int, Path(ge=0, le=2**31 - 1)]
) -> VersionDetail:
    return VersionDetail.model_validate(await get_version(session, list_name=name, version=version or None))


@router.post(
    "/lists/{name}/import", status_code=201, summary="Import a list version", **guarded("compliance.manage")
)
async def list_import(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    name: ListName,
    fmt: Annotated[str, Query(alias="format", max_length=32)],
    file_name: Annotated[str, Query(max_length=300)] = "upload",
) -> ImportView:
    clock = app_context(request).clock
    data = await _body(request)
    result = await import_list(
        session, list_name=name, fmt=fmt, data=data, file_name=file_name, actor=actor, clock=clock
    )
    screened = await rescreen(
        session, index=await load_index(session), threshold=_threshold(request), clock=clock, actor=actor
    )
    return ImportView(
        version=VersionView.model_validate(result.version),
        diff=result.diff.counts,
        rescreen={
            "addresses": screened.addresses,
            "names": screened.names,
            "opened": screened.opened,
            "closed": screened.closed,
        },
    )


@router.get("/hits", summary="Screening hits, newest first", **guarded("compliance.read"))
async def hits(
    session: DbSession,
    state: Annotated[str, Query(pattern=r"^(open|closed|false_positive|all)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[HitView]:
    return [HitView.model_validate(h) for h in await list_hits(session, state=state, limit=limit)]


@router.post(
    "/hits/{hit_id}/dispose", summary="Disposition a false positive", **guarded("compliance.dispose")
)
async def hit_dispose(
    request: Request, session: DbSession, actor: CurrentActor, hit_id: HitId, body: DisposeBody
) -> HitView:
    hit = await dispose(
        session, hit_id=hit_id, reason=body.reason, actor=actor, clock=app_context(request).clock
    )
    return HitView.model_validate(hit)


@router.post("/rescreen", summary="Re-screen every known address and name", **guarded("compliance.manage"))
async def rescreen_all(request: Request, session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    r = await rescreen(
        session,
        index=await load_index(session),
        threshold=_threshold(request),
        clock=app_context(request).clock,
        actor=actor,
    )
    return {"addresses": r.addresses, "names": r.names, "opened": r.opened, "closed": r.closed}


@router.get("/kyc", summary="KYC records", **guarded("compliance.read"))
async def kyc(session: DbSession) -> list[KycView]:
    return [KycView.model_validate(r) for r in await list_kyc(session)]


@router.put("/kyc/{participant}", summary="Create or update a KYC record", **guarded("compliance.manage"))
async def kyc_put(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    participant: Annotated[str, Path(max_length=200)],
    body: KycBody,
) -> KycView:
    item = KycInput(
        participant=participant,
        name=body.name,
        role=body.role,
        addresses=tuple(body.addresses),
        status=body.status,
        risk_rating=body.risk_rating,
        review_due=body.review_due,
        expires_at=body.expires_at,
        documents=tuple(body.documents),
        country=body.country,
    )
    rec = await upsert_kyc(session, item, actor=actor, clock=app_context(request).clock)
    return KycView.model_validate(rec)


@router.post("/kyc/import", summary="Import KYC records from CSV", **guarded("compliance.manage"))
async def kyc_import(request: Request, session: DbSession, actor: CurrentActor) -> list[KycView]:
    data = await _body(request)
    records = await import_kyc_csv(
        session, data, path="upload.csv", actor=actor, clock=app_context(request).clock
    )
    return [KycView.model_validate(r) for r in records]


class NewCase(BaseModel):
    subject: str = Field(min_length=1, max_length=500)
    assignee: str | None = Field(default=None, max_length=200)


class CaseState(BaseModel):
    state: str = Field(pattern=r"^(open|investigating|escalated|closed)$")
    note: str | None = Field(default=None, max_length=4000)
    resolution: str | None = Field(default=None, pattern=r"^(no_action|reported)$")


class Narrative(BaseModel):
    narrative: str = Field(min_length=1, max_length=20000)


class Filing(BaseModel):
    reference: str = Field(min_length=1, max_length=500)


CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Case id.")]
SarId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Report id.")]


@router.get("/cases", summary="Compliance cases, newest first", **guarded("compliance.read"))
async def cases(
    session: DbSession,
    state: Annotated[str | None, Query(pattern=r"^(open|investigating|escalated|closed)$")] = None,
) -> list[CaseView]:
    return [CaseView.model_validate(c) for c in await list_cases(session, state=state)]


@router.post("/cases", status_code=201, summary="Open a case for a subject", **guarded("compliance.manage"))
async def case_open(request: Request, session: DbSession, actor: CurrentActor, body: NewCase) -> CaseView:
    case = await open_case(
        session, subject=body.subject, actor=actor, clock=app_context(request).clock, assignee=body.assignee
    )
    return CaseView.model_validate(case)


@router.get("/cases/{case_id}", summary="One case and its reports", **guarded("compliance.read"))
async def case_show(session: DbSession, case_id: CaseId) -> dict[str, Any]:
    case, sars = await case_detail(session, case_id)
    return {"case": CaseView.model_validate(case), "reports": [SarView.model_validate(s) for s in sars]}


@router.post("/cases/{case_id}/state", summary="Move a case", **guarded("compliance.manage"))
async def case_state(
    request: Request, session: DbSession, actor: CurrentActor, case_id: CaseId, body: CaseState
) -> CaseView:
    case = await transition(
        session,
        case_id=case_id,
        to_state=body.state,
        actor=actor,
        clock=app_context(request).clock,
        note=body.note,
        resolution=body.resolution,
    )
    return CaseView.model_validate(case)


@router.post("/cases/{case_id}/sars", status_code=201, summary="Draft a SAR", **guarded("compliance.manage"))
async def sar_draft(
    request: Request, session: DbSession, actor: CurrentActor, case_id: CaseId, body: Narrative
) -> SarView:
    sar = await draft_sar(
        session, case_id=case_id, narrative=body.narrative, actor=actor, clock=app_context(request).clock
    )
    return SarView.model_validate(sar)


@router.post("/sars/{sar_id}/approve", summary="Approve a SAR", **guarded("compliance.approve"))
async def sar_approve(
    request: Request, session: DbSession, actor: CurrentActor, sar_id: SarId
) -> dict[str, Any]:
    verdict = await approve_sar(session, sar_id=sar_id, actor=actor, clock=app_context(request).clock)
    return {"satisfied": verdict.satisfied, "approvers": list(verdict.counted), "missing": verdict.missing}


@router.post("/sars/{sar_id}/file", summary="Record a SAR's filing", **guarded("compliance.manage"))
async def sar_file(
    request: Request, session: DbSession, actor: CurrentActor, sar_id: SarId, body: Filing
) -> SarView:
    sar = await file_sar(
        session, sar_id=sar_id, reference=body.reference, actor=actor, clock=app_context(request).clock
    )
    return SarView.model_validate(sar)


@router.get("/sars/{sar_id}/report", summary="A SAR as PDF or JSON", **guarded("compliance.read"))
async def sar_report(
    session: DbSession,
    sar_id: SarId,
    fmt: Annotated[str, Query(alias="format", pattern=r"^(pdf|json)$")] = "pdf",
) -> Response:
    data, media = await render_sar(session, sar_id=sar_id, fmt=fmt)
    return Response(content=data, media_type=media)


# --- transaction reports and filing drafts (compliance.reports, compliance.filing_drafts) ---------------
DraftId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Filing draft id.")]


class FilingDraftView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    period_label: str
    state: str
    content_hash: str
    generated_by: str
    generated_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    reference: str | None
    filed_at: datetime | None


class FilingDraftDetail(FilingDraftView):
    body: str
    content: dict[str, Any]


class ReviewBody(BaseModel):
    note: str = Field(min_length=3, max_length=4000)


@router.get(
    "/reports/transactions",
    summary="Transaction report for a period",
    responses={
        200: {"description": "The report (JSON or CSV)", "content": {"application/json": {}, "text/csv": {}}}
    },
    response_class=Response,
    **guarded("compliance.read"),
)
async def transactions_report(
    request: Request,
    session: DbSession,
    start: Annotated[date, Query(alias="from", description="First day (UTC), included.")],
    end: Annotated[date, Query(alias="to", description="Last day (UTC), excluded.")],
    fmt: Annotated[str, Query(alias="format", pattern=r"^(json|csv)$")] = "json",
) -> Response:
    report = await transaction_report(
        session,
        config=app_context(request).config_set.compliance,
        start=datetime.combine(start, time(), tzinfo=UTC),
        end=datetime.combine(end, time(), tzinfo=UTC),
    )
    if fmt == "csv":
        return Response(content=report_csv(report), media_type="text/csv; charset=utf-8")
    return Response(content=json.dumps(report), media_type="application/json")


@router.post(
    "/filings/{name}/{period}/generate",
    status_code=201,
    summary="Generate a filing from its template",
    **guarded("compliance.manage"),
)
async def filing_generate(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    name: Annotated[str, Path(max_length=64)],
    period: Annotated[str, Path(max_length=16)],
) -> FilingDraftDetail:
    config = app_context(request).config_set
    draft = await generate(
        session,
        config=config.compliance,
        name=name,
        period=period,
        base_dir=config.config_dir,
        actor=actor,
        clock=app_context(request).clock,
    )
    return FilingDraftDetail.model_validate(draft)


@router.get("/filings/drafts", summary="Filing drafts", **guarded("compliance.read"))
async def filing_drafts(
    session: DbSession, name: Annotated[str | None, Query(max_length=64)] = None
) -> list[FilingDraftView]:
    return [FilingDraftView.model_validate(d) for d in await list_drafts(session, name=name)]


@router.get("/filings/drafts/{draft_id}", summary="One filing draft", **guarded("compliance.read"))
async def filing_draft(session: DbSession, draft_id: DraftId) -> FilingDraftDetail:
    draft = await session.get(FilingDraftRow, draft_id)
    if draft is None:
        raise NotFoundError(f"No filing draft {draft_id}.")
    return FilingDraftDetail.model_validate(draft)


@router.post("/filings/drafts/{draft_id}/review", summary="Review a filing", **guarded("compliance.manage"))
async def filing_review(
    request: Request, session: DbSession, actor: CurrentActor, draft_id: DraftId, body: ReviewBody
) -> FilingDraftView:
    draft = await review(
        session, draft_id=draft_id, note=body.note, actor=actor, clock=app_context(request).clock
    )
    return FilingDraftView.model_validate(draft)


@router.post(
    "/filings/drafts/{draft_id}/approve", summary="Approve a filing", **guarded("compliance.approve")
)
async def filing_approve(
    request: Request, session: DbSession, actor: CurrentActor, draft_id: DraftId
) -> dict[str, Any]:
    verdict = await approve(session, draft_id=draft_id, actor=actor, clock=app_context(request).clock)
    return {"satisfied": verdict.satisfied, "approvers": list(verdict.counted), "missing": verdict.missing}


@router.post(
    "/filings/drafts/{draft_id}/file", summary="Record a filing's submission", **guarded("compliance.manage")
)
async def filing_file(
    request: Request, session: DbSession, actor: CurrentActor, draft_id: DraftId, body: Filing
) -> FilingDraftView:
    draft = await file_draft(
        session,
        config=app_context(request).config_set.compliance,
        draft_id=draft_id,
        reference=body.reference,
        actor=actor,
        clock=app_context(request).clock,
    )
    return FilingDraftView.model_validate(draft)
