"""Notification aggregation groups, persisted with the alert changes that fill them.

Revision ID: 0008a_response_groups
Revises: 0008_response
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0008a_response_groups"
down_revision = "0008_response"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_groups",
        sa.Column("group_id", sa.String(64), primary_key=True),
        sa.Column("route_id", sa.String(200), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("next_flush", UTCDateTime(), nullable=True),
        sa.Column("last_flush", UTCDateTime(), nullable=True),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("flushes", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("notified", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("response_groups")
