"""ORM tables of the compliance domain.

``compliance_list_versions``: one row per import of a list (name, format, version number, sha256 of the
file, the diff against the previous version); the newest version of each list is in force
(``superseded_at`` is null). ``compliance_list_entries``: the snapshot's entries. ``compliance_hits``: a
screening hit (an address or a name matched to an entry), open until delisted or dispositioned; the
``alerted``/``cleared`` flags say whether the screening monitor has raised/cleared its alert.
``compliance_suppressions``: false positives dispositioned for one list version. ``compliance_addresses``:
every address seen in a screened transfer (re-screened on each new list version). ``compliance_kyc``: KYC
records of participants and counterparties (status, review date, risk rating, document hashes only).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["KnownAddress", "KycRecord", "ListEntryRow", "ListVersion", "ScreeningHit", "Suppression"]


class ListVersion(Base):
    __tablename__ = "compliance_list_versions"
    __table_args__ = (
        UniqueConstraint("list_name", "version", name="uq_compliance_list_versions_name_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    entry_count: Mapped[int] = mapped_column(Integer)
    address_count: Mapped[int] = mapped_column(Integer)
    diff: Mapped[dict[str, object]] = mapped_column(JSON)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ListEntryRow(Base):
    __tablename__ = "compliance_list_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey(
            "compliance_list_versions.id", ondelete="CASCADE", name="fk_compliance_list_entries_version"
        ),
        index=True,
    )
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    aliases: Mapped[list[str]] = mapped_column(JSON)
    addresses: Mapped[list[str]] = mapped_column(JSON)
    programs: Mapped[list[str]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(32))
    line: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ScreeningHit(Base):
    __tablename__ = "compliance_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # address | name
    subject: Mapped[str] = mapped_column(String(500), index=True)
    list_name: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)
    entry_key: Mapped[str] = mapped_column(String(200))
    entry_name: Mapped[str] = mapped_column(String(500))
    score: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | closed | false_positive
    evidence: Mapped[dict[str, object]] = mapped_column(JSON)
    block_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Suppression(Base):
    __tablename__ = "compliance_suppressions"
    __table_args__ = (
        UniqueConstraint(
            "version_id", "entry_key", "subject", name="uq_compliance_suppressions_version_entry_subject"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_name: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)
    entry_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnownAddress(Base):
    __tablename__ = "compliance_addresses"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    first_block: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KycRecord(Base):
    __tablename__ = "compliance_kyc"
    __table_args__ = (UniqueConstraint("participant", name="uq_compliance_kyc_participant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(16))  # participant | counterparty
    addresses: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected | expired
    risk_rating: Mapped[str] = mapped_column(String(16))  # low | medium | high
    review_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)  # ISO 3166-1 alpha-2
    documents: Mapped[list[str]] = mapped_column(JSON)  # sha256 of each document, never the contents
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
