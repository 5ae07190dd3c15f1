"""KYC records of participants and counterparties: status (pending / approved / rejected / expired),
review date, expiry, risk rating and document hashes — never document contents, never personal data in
logs (the audit entry names the participant id and the changed fields, not the name).

Imported one by one (API) or from a CSV with the header
``participant,name,role,addresses,status,risk_rating,review_due,expires_at,documents`` (addresses and
document sha256s separated by ``;``, dates ISO 8601); a bad row refuses the whole file naming its line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.clock import Clock
from fictra.compliance.formats.common import evm_address
from fictra.compliance.models import KycRecord
from fictra.errors import UsageError

__all__ = ["COLUMNS", "KycInput", "import_kyc_csv", "list_kyc", "parse_kyc_csv", "upsert_kyc"]

STATUSES = ("pending", "approved", "rejected", "expired")
RATINGS = ("low", "medium", "high")
ROLES = ("participant", "counterparty")
COLUMNS = (
    "participant",
    "name",
    "role",
    "addresses",
    "status",
    "risk_rating",
    "review_due",
    "expires_at",
    "documents",
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class KycInput:
    participant: str
    name: str
    status: str = "pending"
    role: str = "participant"
    addresses: tuple[str, ...] = ()
    risk_rating: str = "medium"
    review_due: datetime | None = None
    expires_at: datetime | None = None
    documents: tuple[str, ...] = field(default=())
    country: str = ""  # ISO 3166-1 alpha-2 (optional CSV column ``country``), for the transaction reports


def _when(value: str, what: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} '{value[:40]}' is not an ISO 8601 date (e.g. 2027-01-31)") from None
    if parsed.tzinfo is None:
        parsed = (
            parsed.replace(tzinfo=UTC)
            if "T" in value
            else datetime.combine(date.fromisoformat(value[:10]), datetime.min.time(), UTC)
        )
    return parsed.astimezone(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def validate(item: KycInput) -> KycInput:
    """``item`` checked and normalised; raises UsageError naming the field and value."""
    if not _ID.match(item.participant):
        raise UsageError(f"participant '{item.participant[:60]}' is not a valid id (letters, digits, _.:-)")
    if not item.name.strip() or len(item.name) > 500:
        raise UsageError(f"participant {item.participant}: name must be 1-500 characters")
    for label, value, allowed in (
        ("status", item.status, STATUSES),
        ("risk_rating", item.risk_rating, RATINGS),
        ("role", item.role, ROLES),
    ):
        if value not in allowed:
            raise UsageError(f"{label} '{value[:40]}' is not one of: {', '.join(allowed)}")
    addresses = []
    for a in item.addresses:
        norm = evm_address(a)
        if norm is None:
            raise UsageError(f"address '{a[:60]}' is not an EVM address")
        addresses.append(norm)
    for d in item.documents:
        if not _SHA.match(d.lower()):
            raise UsageError(
                f"document '{d[:70]}' is not a sha256 (64 hex digits; store hashes, not documents)"
            )
    return KycInput(
        participant=item.participant,
        name=item.name.strip(),
        status=item.status,
        role=item.role,
        addresses=tuple(dict.fromkeys(addresses)),
        risk_rating=item.risk_rating,
        review_due=_utc(item.review_due),
        expires_at=_utc(item.expires_at),
        documents=tuple(d.lower() for d in item.documents),
        country=_country(item.country),
    )


def _country(value: str) -> str:
    code = value.strip().upper()
    if code and not re.fullmatch(r"[A-Z]{2}", code):
        raise UsageError(f"country '{value[:20]}' is not an ISO 3166-1 alpha-2 code (e.g. DE, SG)")
    return code


def parse_kyc_csv(data: bytes, path: str) -> list[KycInput]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UsageError(f"{path}:1: missing column(s) {', '.join(missing)} (expected: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    out: list[KycInput] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise UsageError(f"{path}:{line}: expected {len(header)} columns")
            try:
                out.append(
                    validate(
                        KycInput(
                            participant=row["participant"].strip(),
                            name=row["name"],
                            role=row["role"].strip() or "participant",
                            addresses=tuple(a.strip() for a in row["addresses"].split(";") if a.strip()),
                            status=row["status"].strip(),
                            risk_rating=row["risk_rating"].strip() or "medium",
                            review_due=_when(row["review_due"], "review_due"),
                            expires_at=_when(row["expires_at"], "expires_at"),
                            documents=tuple(d.strip() for d in row["documents"].split(";") if d.strip()),
                            country=(row.get("country") or "").strip().upper(),
                        )
                    )
                )
            except UsageError as exc:
                raise UsageError(f"{path}:{line}: {exc.user_message}") from None
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    if len({i.participant for i in out}) != len(out):
        raise UsageError(f"{path}: a participant appears twice")
    return out


async def upsert_kyc(session: AsyncSession, item: KycInput, *, actor: object, clock: Clock) -> KycRecord:
    item = validate(item)
    rec = await session.scalar(select(KycRecord).where(KycRecord.participant == item.participant))
    before = None
    now = clock.now()
    who = getattr(actor, "username", str(actor))
    if rec is None:
        rec = KycRecord(participant=item.participant)
        session.add(rec)
    else:
        before = {"status": rec.status, "risk_rating": rec.risk_rating}
    rec.name, rec.role, rec.addresses, rec.status = item.name, item.role, list(item.addresses), item.status
    rec.risk_rating, rec.review_due, rec.expires_at = item.risk_rating, item.review_due, item.expires_at
    rec.documents, rec.updated_by, rec.updated_at = list(item.documents), who, now
    rec.country = item.country or None
    await session.flush()
    await record(
        session,
        actor=actor,
        action="compliance.kyc_update",
        target=f"kyc:{item.participant}",
        before=before,
        after={
            "status": item.status,
            "risk_rating": item.risk_rating,
            "role": item.role,
            "review_due": item.review_due.isoformat() if item.review_due else None,
            "expires_at": item.expires_at.isoformat() if item.expires_at else None,
            "addresses": len(item.addresses),
            "documents": list(item.documents),
        },
        clock=clock,
    )
    return rec


async def import_kyc_csv(
    session: AsyncSession, data: bytes, *, path: str, actor: object, clock: Clock
) -> list[KycRecord]:
    """Every row or none (the caller's transaction)."""
    return [await upsert_kyc(session, item, actor=actor, clock=clock) for item in parse_kyc_csv(data, path)]


async def list_kyc(session: AsyncSession) -> list[KycRecord]:
    return list((await session.scalars(select(KycRecord).order_by(KycRecord.participant))).all())
