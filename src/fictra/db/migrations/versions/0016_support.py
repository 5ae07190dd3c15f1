"""Support queue: tickets with their SLA deadlines, comments (replies, notes, inbound mail) and links.

Revision ID: 0016_support
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0016_support"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("requester_email", sa.String(320), nullable=False),
        sa.Column("participant", sa.String(200), nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("thread_id", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("first_response_due", UTCDateTime(), nullable=False),
        sa.Column("resolution_due", UTCDateTime(), nullable=False),
        sa.Column("first_responded_at", UTCDateTime(), nullable=True),
        sa.Column("solved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("first_response_breached_at", UTCDateTime(), nullable=True),
        sa.Column("resolution_breached_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_support_tickets_state_priority", "support_tickets", ["state", "priority"])
    op.create_index("ix_support_tickets_thread_id", "support_tickets", ["thread_id"])
    op.create_table(
        "support_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE", name="fk_support_comments_ticket_id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_support_comments_ticket_id", "support_comments", ["ticket_id"])
    op.create_index("ix_support_comments_message_id", "support_comments", ["message_id"])
    op.create_table(
        "support_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE", name="fk_support_links_ticket_id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "kind", "ref", name="uq_support_links_ticket_id_kind_ref"),
    )


def downgrade() -> None:
    op.drop_table("support_links")
    op.drop_index("ix_support_comments_message_id", table_name="support_comments")
    op.drop_index("ix_support_comments_ticket_id", table_name="support_comments")
    op.drop_table("support_comments")
    op.drop_index("ix_support_tickets_thread_id", table_name="support_tickets")
    op.drop_index("ix_support_tickets_state_priority", table_name="support_tickets")
    op.drop_table("support_tickets")
