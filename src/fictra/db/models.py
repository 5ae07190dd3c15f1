"""Imports every domain's ORM models so ``metadata`` knows all tables (Alembic autogenerate, tests)."""

from __future__ import annotations

from fictra.db.base import Base

metadata = Base.metadata
