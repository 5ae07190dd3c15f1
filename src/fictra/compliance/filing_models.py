"""ORM tables of regulatory filings (one row per filing and period, once generated or filed) and of the
regulators' feed items triaged into tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["FeedItem", "Filing"]


class Filing(Base):
    __tablename__ = "compliance_filings"
    __table_args__ = (UniqueConstraint("name", "period_label", name="uq_compliance_filings_name_period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    period_label: Mapped[str] = mapped_column(String(16))  # 2027-01, 2027-Q1, 2027
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))  # filed
    reference: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedItem(Base):
    __tablename__ = "compliance_feed_items"
    __table_args__ = (UniqueConstraint("feed", "guid", name="uq_compliance_feed_items_feed_guid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(String(64))
    guid: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    published: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)  # new | triaged
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    triaged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
