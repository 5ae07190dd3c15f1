"""Regulatory filings generated from their template, reviewed, approved and filed.

:func:`generate` builds the filing of one calendar period (compliance.yaml ``filings``): its content is the
period's transaction report (:mod:`fictra.compliance.reports`) with the filing's name, authority, period
and due date, rendered through the filing's ``template`` — a Jinja file relative to the config directory
(sandboxed, strict: an unknown variable is an error naming the file) or, when ``template`` is a name or
empty, the built-in text layout. The draft is stored with its content hash; a new generation supersedes an
unfiled draft of the same period. :func:`review` (someone with ``compliance.manage``) marks it reviewed
with a note; :func:`approve` records an approval under :data:`FILING_RULE` (:mod:`fictra.auth.approvals`,
bound to the content hash; a compliance officer who is not the reviewer); :func:`file_draft` needs the
approval to hold, records the filing with the submission reference (``filings.mark_filed``, which clears
the missed-due-date alert) and marks the draft filed. Every step is audited.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.auth.approvals import ApprovalRule, Verdict, canonical_roles, content_hash, evaluate
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.filings import _MONTHS, Due, _add_months, calendar, filed, mark_filed
from fictra.compliance.report_models import FilingApproval, FilingDraft
from fictra.compliance.reports import transaction_report
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError

__all__ = ["FILING_RULE", "approve", "draft_verdict", "file_draft", "generate", "list_drafts", "review"]

FILING_RULE = ApprovalRule(count=1, roles=("compliance_officer",), ttl=timedelta(days=7))
TEMPLATE_SUFFIXES = (".j2", ".jinja", ".txt", ".md", ".xml", ".html", ".csv", ".json")
DEFAULT_TEMPLATE = """{{ filing.name }} -- {{ filing.authority }}
Period {{ filing.period }} ({{ filing.from }} to {{ filing.to }}), due {{ filing.due_at }}

Totals
{% for token, t in report.totals.items() %}  {{ token }}: {{ t.count }} transfers, {{ t.amount }}
{% else %}  no transfers
{% endfor %}
Volumes per participant
{% for p in report.participants %}  {{ p.participant }} [{{ p.country }}] {{ p.token }}: \
sent {{ p.sent_count }} / {{ p.sent }}, received {{ p.received_count }} / {{ p.received }}
{% endfor %}
Large transfers (>= {{ report.large_threshold }})
{% for x in report.large_transfers %}  {{ x.at }} {{ x.token }} {{ x.amount }} {{ x.from_participant }} -> \
{{ x.to_participant }} tx {{ x.tx }}
{% else %}  none
{% endfor %}
By country (sender)
{% for c in report.countries %}  {{ c.country }} {{ c.token }}: {{ c.count }} transfers, {{ c.amount }}
{% endfor %}"""


def _who(actor: object) -> str:
    return str(getattr(actor, "username", actor))


def _due(config: ComplianceConfig, name: str, period: str, clock: Clock) -> Due:
    for d in calendar(config, now=clock.now(), back=8, ahead=1):
        if (d.filing.name, d.period) == (name, period):
            return d
    names = ", ".join(f.name for f in config.filings) or "none configured"
    raise NotFoundError(f"No filing '{name}' for period '{period}' on the calendar (filings: {names}).")


def _render(due: Due, context: dict[str, Any], base_dir: Path) -> str:
    template = due.filing.template.strip()
    where = f"compliance.yaml:filings.{due.filing.name}.template"
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    source = DEFAULT_TEMPLATE
    if template.endswith(TEMPLATE_SUFFIXES):
        path = Path(template) if Path(template).is_absolute() else base_dir / template
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{where}: cannot read '{path}' ({exc}); fix the path or leave it empty."
            ) from None
    try:
        return env.from_string(source).render(**context)
    except jinja2.TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise UsageError(
            f"{where}: '{template or 'built-in'}'{f' line {line}' if line else ''}: {exc}"
        ) from None


async def generate(
    session: AsyncSession,
    *,
    config: ComplianceConfig,
    name: str,
    period: str,
    base_dir: Path,
    actor: object,
    clock: Clock,
) -> FilingDraft:
    """The filing of ``name`` for ``period`` generated from its template (a new draft)."""
    due = _due(config, name, period, clock)
    if (name, period) in await filed(session):
        raise ConflictError(f"{name} {period} is filed already.")
    start = _add_months(due.ends, -_MONTHS[due.filing.period])
    report = await transaction_report(session, config=config, start=start, end=due.ends)
    content: dict[str, Any] = {
        "filing": {
            "name": name,
            "authority": due.filing.authority,
            "period": period,
            "from": start.date().isoformat(),
            "to": due.ends.date().isoformat(),
            "due_at": due.due_at.date().isoformat(),
            "template": due.filing.template,
        },
        "report": report,
    }
    body = _render(due, content, base_dir)
    digest = content_hash({"content": content, "body": body})
    for old in (
        await session.scalars(
            select(FilingDraft).where(
                FilingDraft.name == name,
                FilingDraft.period_label == period,
                FilingDraft.state.in_(("generated", "reviewed")),
            )
        )
    ).all():
        old.state = "superseded"
    draft = FilingDraft(
        name=name,
        period_label=period,
        state="generated",
        content=content,
        body=body,
        content_hash=digest,
        generated_by=_who(actor),
        generated_at=clock.now(),
    )
    session.add(draft)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="compliance.filing_generate",
        target=f"filing-draft:{draft.id}",
        after={"filing": name, "period": period, "content_hash": digest, "template": due.filing.template},
        clock=clock,
    )
    return draft


async def _draft(session: AsyncSession, draft_id: int) -> FilingDraft:
    draft = await session.get(FilingDraft, draft_id, with_for_update=True)
    if draft is None:
        raise NotFoundError(f"No filing draft {draft_id}.")
    return draft


async def list_drafts(session: AsyncSession, *, name: str | None = None) -> list[FilingDraft]:
    q = select(FilingDraft).order_by(FilingDraft.id.desc())
    if name:
        q = q.where(FilingDraft.name == name)
    return list((await session.scalars(q)).all())


async def review(
    session: AsyncSession, *, draft_id: int, note: str, actor: object, clock: Clock
) -> FilingDraft:
    draft = await _draft(session, draft_id)
    if draft.state != "generated":
        raise ConflictError(f"Filing draft {draft_id} is {draft.state}; only a generated draft is reviewed.")
    if len(note.strip()) < 3:
        raise UsageError("A review needs a note (what was checked).")
    draft.state, draft.reviewed_by, draft.reviewed_at = "reviewed", _who(actor), clock.now()
    draft.review_note = note.strip()[:4000]
    await record(
        session,
        actor=actor,
        action="compliance.filing_review",
        target=f"filing-draft:{draft_id}",
        before={"state": "generated"},
        after={"state": "reviewed", "content_hash": draft.content_hash},
        reason=draft.review_note,
        clock=clock,
    )
    return draft


async def draft_verdict(session: AsyncSession, draft: FilingDraft, *, clock: Clock) -> Verdict:
    approvals = (
        await session.scalars(select(FilingApproval).where(FilingApproval.draft_id == draft.id))
    ).all()
    return evaluate(FILING_RULE, approvals, current_hash=draft.content_hash, now=clock.now())


async def approve(session: AsyncSession, *, draft_id: int, actor: object, clock: Clock) -> Verdict:
    """A compliance officer's approval of a reviewed draft (not by its reviewer: four eyes)."""
    draft = await _draft(session, draft_id)
    if draft.state != "reviewed":
        raise ConflictError(f"Filing draft {draft_id} is {draft.state}; only a reviewed draft is approved.")
    roles = canonical_roles(getattr(actor, "roles", ()))
    if not set(roles) & set(FILING_RULE.roles):
        raise PermissionDeniedError(
            f"Approving a filing needs the role {' or '.join(FILING_RULE.roles)} "
            f"(you have: {', '.join(roles) or 'none'})."
        )
    who = _who(actor)
    if who == draft.reviewed_by:
        raise ConflictError(f"{who} reviewed filing draft {draft_id}; someone else approves it.")
    session.add(
        FilingApproval(
            draft_id=draft_id,
            approver=who,
            roles=list(roles),
            params_hash=draft.content_hash,
            approved_at=clock.now(),
            expires_at=clock.now() + FILING_RULE.ttl,
            via=str(getattr(actor, "via", "api")),
        )
    )
    await session.flush()
    verdict = await draft_verdict(session, draft, clock=clock)
    await record(
        session,
        actor=actor,
        action="compliance.filing_approve",
        target=f"filing-draft:{draft_id}",
        after={
            "content_hash": draft.content_hash,
            "satisfied": verdict.satisfied,
            "missing": verdict.missing,
        },
        clock=clock,
    )
    return verdict


async def file_draft(
    session: AsyncSession,
    *,
    config: ComplianceConfig,
    draft_id: int,
    reference: str,
    actor: object,
    clock: Clock,
) -> FilingDraft:
    """The approved draft filed with the authority's submission reference."""
    draft = await _draft(session, draft_id)
    if draft.state != "reviewed":
        raise ConflictError(
            f"Filing draft {draft_id} is {draft.state}; only a reviewed, approved draft is filed."
        )
    verdict = await draft_verdict(session, draft, clock=clock)
    if not verdict.satisfied:
        raise ConflictError(f"Filing draft {draft_id} is not approved: missing {verdict.missing}.")
    ends = _due(config, draft.name, draft.period_label, clock).ends
    if clock.now() < ends:
        raise ConflictError(
            f"{draft.name} {draft.period_label} runs until {ends:%Y-%m-%d}: a draft of a running period is a "
            "preview; generate it again once the period has ended."
        )
    await mark_filed(
        session,
        config=config,
        name=draft.name,
        period=draft.period_label,
        reference=reference,
        actor=actor,
        clock=clock,
    )
    draft.state, draft.reference, draft.filed_at = "filed", reference.strip()[:500], clock.now()
    await record(
        session,
        actor=actor,
        action="compliance.filing_draft_filed",
        target=f"filing-draft:{draft_id}",
        after={
            "reference": draft.reference,
            "content_hash": draft.content_hash,
            "approvers": list(verdict.counted),
        },
        clock=clock,
    )
    return draft
