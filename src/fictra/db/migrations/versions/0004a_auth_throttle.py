"""Auth hardening: login throttles per (user, client), per client and per user (OWASP-style lockout
that an anonymous caller cannot turn against a user).

Revision ID: 0004a_auth_throttle
Revises: 0004_auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0004a_auth_throttle"
down_revision = "0004_auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("username", sa.String(200), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=True),
        sa.Column("last_failed_at", UTCDateTime(), nullable=True),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("locks", sa.Integer(), nullable=False),
        sa.UniqueConstraint("scope", "key", name="uq_login_throttles_scope_key"),
    )
    op.create_index("ix_login_throttles_username", "login_throttles", ["username"])


def downgrade() -> None:
    op.drop_index("ix_login_throttles_username", table_name="login_throttles")
    op.drop_table("login_throttles")
