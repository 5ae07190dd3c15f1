"""Read models of the compliance domain: hits, list versions, counts for the live view."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.compliance.case_models import Case, Sar
from fictra.compliance.models import KycRecord, ListVersion, ScreeningHit
from fictra.errors import NotFoundError

__all__ = ["case_detail", "counts", "list_cases", "list_hits", "list_versions"]

MAX_LIMIT = 500


async def counts(session: AsyncSession) -> dict[str, int]:
    """Open hits (address, name), KYC records not approved, lists in force."""
    hits = dict(
        (
            await session.execute(
                select(ScreeningHit.kind, func.count())
                .where(ScreeningHit.state == "open")
                .group_by(ScreeningHit.kind)
            )
        ).all()
    )
    kyc = await session.scalar(
        select(func.count()).select_from(KycRecord).where(KycRecord.status != "approved")
    )
    lists = await session.scalar(
        select(func.count()).select_from(ListVersion).where(ListVersion.superseded_at.is_(None))
    )
    return {
        "address_hits": int(hits.get("address", 0)),
        "name_hits": int(hits.get("name", 0)),
        "kyc_not_approved": int(kyc or 0),
        "lists": int(lists or 0),
    }


async def list_hits(
    session: AsyncSession, *, state: str | None = "open", limit: int = 100
) -> list[ScreeningHit]:
    stmt = select(ScreeningHit)
    if state and state != "all":
        stmt = stmt.where(ScreeningHit.state == state)
    rows = await session.scalars(stmt.order_by(ScreeningHit.id.desc()).limit(min(limit, MAX_LIMIT)))
    return list(rows.all())


async def list_versions(session: AsyncSession, *, list_name: str | None = None) -> list[ListVersion]:
    stmt = select(ListVersion)
    if list_name:
        stmt = stmt.where(ListVersion.list_name == list_name)
    rows = await session.scalars(stmt.order_by(ListVersion.list_name, ListVersion.version.desc()))
    return list(rows.all())


async def list_cases(session: AsyncSession, *, state: str | None = None) -> list[Case]:
    stmt = select(Case)
    if state:
        stmt = stmt.where(Case.state == state)
    return list((await session.scalars(stmt.order_by(Case.id.desc()).limit(MAX_LIMIT))).all())


async def case_detail(session: AsyncSession, case_id: int) -> tuple[Case, list[Sar]]:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"No compliance case {case_id}.")
    sars = (await session.scalars(select(Sar).where(Sar.case_id == case_id).order_by(Sar.id))).all()
    return case, list(sars)
