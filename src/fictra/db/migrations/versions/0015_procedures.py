"""Procedures: runs per (procedure, due time) and their step results with evidence.

Revision ID: 0015_procedures
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0015_procedures"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedure_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("procedure", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.UniqueConstraint("procedure", "due_at", name="uq_procedure_runs_procedure_due_at"),
    )
    op.create_index("ix_procedure_runs_outcome_due_at", "procedure_runs", ["outcome", "due_at"])
    op.create_table(
        "procedure_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.Integer(),
            sa.ForeignKey(
                "procedure_runs.id", ondelete="CASCADE", name="fk_procedure_steps_run_id_procedure_runs"
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("evidence_sha256", sa.String(64), nullable=True),
        sa.Column("signed_by", sa.String(200), nullable=True),
        sa.Column("signed_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "position", name="uq_procedure_steps_run_id_position"),
    )


def downgrade() -> None:
    op.drop_table("procedure_steps")
    op.drop_index("ix_procedure_runs_outcome_due_at", table_name="procedure_runs")
    op.drop_table("procedure_runs")
