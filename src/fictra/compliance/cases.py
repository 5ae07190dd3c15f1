"""Cases and suspicious activity reports.

A case groups the open screening hits and the AML alerts of one subject (an address or a name) and is
worked through a transition table: open → investigating → escalated → closed, closed with a resolution
(``no_action`` or ``reported`` — the latter only once a report of the case is filed). A report (SAR) is
drafted from the case (subject, activity, typologies, transactions, narrative), approved under
:data:`SAR_RULE` — two distinct people, a compliance officer **and** a legal representative — with
approvals bound to the report's content hash (:mod:`fictra.auth.approvals`), rendered to JSON or PDF
(WeasyPrint) and marked filed with the submission reference. Every change is audited in the caller's
transaction.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.audit.service import record
from fictra.auth.approvals import ApprovalRule, Verdict, canonical_roles, content_hash, evaluate
from fictra.clock import Clock
from fictra.compliance.case_models import Case, Sar, SarApproval
from fictra.compliance.models import ScreeningHit
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError

__all__ = [
    "SAR_RULE",
    "TRANSITIONS",
    "approve_sar",
    "draft_sar",
    "file_sar",
    "open_case",
    "render_sar",
    "sar_verdict",
    "transition",
]

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "closed"),
    "investigating": ("escalated", "closed"),
    "escalated": ("investigating", "closed"),
    "closed": (),
}
RESOLUTIONS = ("no_action", "reported")
SAR_RULE = ApprovalRule(
    count=2,
    roles=("compliance_officer", "legal"),
    must_include=("compliance_officer", "legal"),
    ttl=timedelta(days=7),
)
AML_MONITOR = "compliance.aml"


def _who(actor: object) -> str:
    return str(getattr(actor, "username", actor))


async def _case(session: AsyncSession, case_id: int) -> Case:
    case = await session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFoundError(f"No compliance case {case_id}.")
    return case


async def open_case(
    session: AsyncSession, *, subject: str, actor: object, clock: Clock, assignee: str | None = None
) -> Case:
    """A case for ``subject`` with its open hits and AML alerts (one active case per subject)."""
    subject = subject.strip().lower() if subject.strip().startswith("0x") else subject.strip()
    active = await session.scalar(select(Case.id).where(Case.subject == subject, Case.state != "closed"))
    if active is not None:
        raise ConflictError(f"Case {active} is already open for '{subject}'.")
    hits = (
        await session.scalars(
            select(ScreeningHit.id).where(ScreeningHit.subject == subject, ScreeningHit.state == "open")
        )
    ).all()
    alerts = [
        a.id
        for a in (await session.scalars(select(Alert).where(Alert.monitor == AML_MONITOR))).all()
        if a.labels.get("subject") == subject
    ]
    if not hits and not alerts:
        raise UsageError(f"Nothing to investigate for '{subject}': no open screening hit and no AML alert.")
    now = clock.now()
    case = Case(
        subject=subject,
        state="open",
        resolution=None,
        assignee=assignee or _who(actor),
        hit_ids=list(hits),
        alert_ids=alerts,
        notes=[],
        opened_by=_who(actor),
        opened_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="compliance.case_open",
        target=f"case:{case.id}",
        after={"subject": subject, "hits": list(hits), "alerts": alerts, "assignee": case.assignee},
        clock=clock,
    )
    return case


async def transition(
    session: AsyncSession,
    *,
    case_id: int,
    to_state: str,
    actor: object,
    clock: Clock,
    note: str | None = None,
    resolution: str | None = None,
) -> Case:
    case = await _case(session, case_id)
    allowed = TRANSITIONS.get(case.state, ())
    if to_state not in allowed:
        raise ConflictError(
            f"Case {case_id} is {case.state}; it can move to {', '.join(allowed) or 'nothing'}, "
            f"not {to_state}."
        )
    if to_state == "closed":
        if resolution not in RESOLUTIONS:
            raise UsageError(f"Closing case {case_id} needs a resolution: {' or '.join(RESOLUTIONS)}.")
        if resolution == "reported":
            filed = await session.scalar(select(Sar.id).where(Sar.case_id == case_id, Sar.state == "filed"))
            if filed is None:
                raise ConflictError(f"Case {case_id} cannot close as reported: no report of it is filed.")
        case.resolution, case.closed_at = resolution, clock.now()
    before = case.state
    case.state, case.updated_at = to_state, clock.now()
    if note:
        case.notes = [*case.notes, {"by": _who(actor), "at": clock.now().isoformat(), "text": note[:4000]}]
    await record(
        session,
        actor=actor,
        action="compliance.case_state",
        target=f"case:{case_id}",
        before={"state": before},
        after={"state": to_state, "resolution": resolution},
        reason=note,
        clock=clock,
    )
    return case


async def _content(session: AsyncSession, case: Case, narrative: str) -> dict[str, Any]:
    hits = (
        (await session.scalars(select(ScreeningHit).where(ScreeningHit.id.in_(case.hit_ids)))).all()
        if case.hit_ids
        else []
    )
    alerts = (
        (await session.scalars(select(Alert).where(Alert.id.in_(case.alert_ids)))).all()
        if case.alert_ids
        else []
    )
    transactions = sorted({h.tx_hash for h in hits if h.tx_hash} | {t for a in alerts for t in a.tx_hashes})
    return {
        "case": case.id,
        "subject": case.subject,
        "activity": {
            "screening_hits": [
                {
                    "id": h.id,
                    "kind": h.kind,
                    "list": h.list_name,
                    "entry": h.entry_key,
                    "entry_name": h.entry_name,
                    "score": h.score,
                    "block": h.block_number,
                    "first_seen_at": h.first_seen_at.isoformat(),
                }
                for h in hits
            ],
            "aml_alerts": [
                {
                    "id": a.id,
                    "typology": a.labels.get("typology"),
                    "summary": a.summary,
                    "block": a.block_number,
                }
                for a in alerts
            ],
        },
        "typologies": sorted({str(a.labels.get("typology")) for a in alerts}),
        "transactions": transactions,
        "narrative": narrative,
    }


async def draft_sar(
    session: AsyncSession, *, case_id: int, narrative: str, actor: object, clock: Clock
) -> Sar:
    """A report drafted from the case (which moves to investigating if it was open)."""
    if len(narrative.strip()) < 20:
        raise UsageError("A suspicious activity report needs a narrative (at least 20 characters).")
    case = await _case(session, case_id)
    if case.state == "closed":
        raise ConflictError(f"Case {case_id} is closed; reopen a new case to report.")
    content = await _content(session, case, narrative.strip())
    sar = Sar(
        case_id=case_id,
        content=content,
        content_hash=content_hash(content),
        state="draft",
        drafted_by=_who(actor),
        drafted_at=clock.now(),
    )
    session.add(sar)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="compliance.sar_draft",
        target=f"sar:{sar.id}",
        after={"case": case_id, "content_hash": sar.content_hash},
        clock=clock,
    )
    return sar


async def _sar(session: AsyncSession, sar_id: int) -> Sar:
    sar = await session.get(Sar, sar_id, with_for_update=True)
    if sar is None:
        raise NotFoundError(f"No suspicious activity report {sar_id}.")
    return sar


async def sar_verdict(session: AsyncSession, sar: Sar, *, clock: Clock) -> Verdict:
    approvals = (await session.scalars(select(SarApproval).where(SarApproval.sar_id == sar.id))).all()
    return evaluate(SAR_RULE, approvals, current_hash=sar.content_hash, now=clock.now())


async def approve_sar(session: AsyncSession, *, sar_id: int, actor: object, clock: Clock) -> Verdict:
    """The actor's approval of the report's current content (their role must be one of SAR_RULE's)."""
    sar = await _sar(session, sar_id)
    if sar.state != "draft":
        raise ConflictError(f"Report {sar_id} is {sar.state}; only a draft is approved.")
    roles = canonical_roles(getattr(actor, "roles", ()))
    if not set(roles) & set(SAR_RULE.roles):
        raise PermissionDeniedError(
            f"Approving a report needs the role {' or '.join(SAR_RULE.roles)} "
            f"(you have: {', '.join(roles) or 'none'})."
        )
    who = _who(actor)
    existing = (
        await session.scalars(
            select(SarApproval).where(SarApproval.sar_id == sar_id, SarApproval.approver == who)
        )
    ).all()
    if any(a.params_hash == sar.content_hash and a.expires_at > clock.now() for a in existing):
        raise ConflictError(f"{who} has approved report {sar_id} already.")
    session.add(
        SarApproval(
            sar_id=sar_id,
            approver=who,
            roles=list(roles),
            params_hash=sar.content_hash,
            approved_at=clock.now(),
            expires_at=clock.now() + SAR_RULE.ttl,
            via=str(getattr(actor, "via", "api")),
        )
    )
    await session.flush()
    verdict = await sar_verdict(session, sar, clock=clock)
    await record(
        session,
        actor=actor,
        action="compliance.sar_approve",
        target=f"sar:{sar_id}",
        after={"content_hash": sar.content_hash, "satisfied": verdict.satisfied, "missing": verdict.missing},
        clock=clock,
    )
    return verdict


async def file_sar(session: AsyncSession, *, sar_id: int, reference: str, actor: object, clock: Clock) -> Sar:
    """Record the filing (the regulator's submission reference); the approvals must hold."""
    reference = reference.strip()
    if not reference:
        raise UsageError("Filing a report needs the submission reference the authority gave.")
    sar = await _sar(session, sar_id)
    if sar.state != "draft":
        raise ConflictError(f"Report {sar_id} is {sar.state} already.")
    verdict = await sar_verdict(session, sar, clock=clock)
    if not verdict.satisfied:
        raise ConflictError(f"Report {sar_id} is not approved: missing {verdict.missing}.")
    sar.state, sar.filed_at, sar.filed_by, sar.filing_reference = (
        "filed",
        clock.now(),
        _who(actor),
        reference[:500],
    )
    await record(
        session,
        actor=actor,
        action="compliance.sar_file",
        target=f"sar:{sar_id}",
        after={
            "reference": sar.filing_reference,
            "content_hash": sar.content_hash,
            "approvers": list(verdict.counted),
        },
        clock=clock,
    )
    return sar


def _html(sar: Sar) -> str:
    c, e = sar.content, html.escape
    rows = "".join(
        f"<tr><td>{e(str(h['list']))}</td><td>{e(str(h['entry_name']))}</td><td>{h['score']:.2f}</td>"
        f"<td>{e(str(h['block']))}</td></tr>"
        for h in c["activity"]["screening_hits"]
    )
    alerts = "".join(f"<li>{e(str(a['summary']))}</li>" for a in c["activity"]["aml_alerts"])
    txs = "".join(f"<li><code>{e(t)}</code></li>" for t in c["transactions"])
    filed = (
        f"Filed {sar.filed_at:%Y-%m-%d %H:%M} UTC, reference {e(sar.filing_reference or '')}"
        if sar.filed_at
        else "Draft"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>SAR</title><style>"
        "body{font-family:sans-serif;font-size:10pt} td,th{border:1px solid #999;padding:2px 6px} "
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Suspicious activity report {sar.id}</h1><p>Case {c['case']} · {e(filed)} · content "
        f"sha256 <code>{sar.content_hash}</code></p><h2>Subject</h2><p><code>{e(c['subject'])}</code></p>"
        "<h2>Screening hits</h2><table><tr><th>List</th><th>Entry</th><th>Score</th><th>Block</th></tr>"
        f"{rows}"
        f"</table><h2>Typologies</h2><p>{e(', '.join(c['typologies']) or 'none')}</p><ul>{alerts}</ul>"
        f"<h2>Transactions</h2><ul>{txs}</ul><h2>Narrative</h2><p>{e(c['narrative'])}</p></body></html>"
    )


async def render_sar(session: AsyncSession, *, sar_id: int, fmt: str) -> tuple[bytes, str]:
    """(document, media type): ``json`` (the structured report with its filing) or ``pdf``."""
    sar = await session.get(Sar, sar_id)
    if sar is None:
        raise NotFoundError(f"No suspicious activity report {sar_id}.")
    if fmt == "json":
        import json

        doc = {
            **sar.content,
            "report": sar.id,
            "state": sar.state,
            "content_hash": sar.content_hash,
            "filed_at": sar.filed_at.isoformat() if sar.filed_at else None,
            "reference": sar.filing_reference,
        }
        return json.dumps(doc, indent=2, sort_keys=True).encode(), "application/json"
    if fmt == "pdf":
        from weasyprint import HTML  # type: ignore[import-untyped]

        data = HTML(string=_html(sar)).write_pdf()
        if not isinstance(data, bytes):
            raise RuntimeError("WeasyPrint returned no PDF")
        return data, "application/pdf"
    raise UsageError(f"Unknown report format '{fmt}'; expected json or pdf.")
