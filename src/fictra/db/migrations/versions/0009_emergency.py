"""Emergency actions: actions, approvals, dry runs, transactions, action events, response policies.

Revision ID: 0009_emergency
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0009_emergency"
down_revision = "0001_base"
branch_labels = None
depends_on = "0003_alerts"


def _action_fk(table: str, ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(
        "emergency_actions.id", ondelete=ondelete, name=f"fk_{table}_action_id_emergency_actions"
    )


def upgrade() -> None:
    op.create_table(
        "emergency_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column(
            "trigger_alert_id",
            sa.Integer(),
            sa.ForeignKey(
                "alerts.id", ondelete="SET NULL", name="fk_emergency_actions_trigger_alert_id_alerts"
            ),
            nullable=True,
        ),
        sa.Column("trigger_at", UTCDateTime(), nullable=True),
        sa.Column("policy", sa.String(200), nullable=True),
        sa.Column("executed_by", sa.String(200), nullable=True),
        sa.Column("scheduled_ready_at", UTCDateTime(), nullable=True),
        sa.Column("timelock_op", sa.JSON(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("alert_to_confirmed_seconds", sa.Float(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_emergency_actions_status", "emergency_actions", ["status"])
    op.create_index("ix_emergency_actions_incident_id", "emergency_actions", ["incident_id"])
    op.create_table(
        "action_approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), _action_fk("action_approvals"), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(200), nullable=False),
    )
    op.create_index("ix_action_approvals_action_id", "action_approvals", ["action_id"])
    op.create_table(
        "action_dry_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), _action_fk("action_dry_runs"), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("traced", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
    )
    op.create_index("ix_action_dry_runs_action_id", "action_dry_runs", ["action_id"])
    op.create_table(
        "action_txs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), _action_fk("action_txs"), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("to", sa.String(42), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("raw_tx", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", sa.BigInteger(), nullable=True),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("included_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_action_txs_action_id", "action_txs", ["action_id"])
    op.create_table(
        "action_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.Integer(), _action_fk("action_events"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_action_events_action_id_id", "action_events", ["action_id", "id"])
    op.create_table(
        "response_policies",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("action_id", sa.Integer(), _action_fk("response_policies", "SET NULL"), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "response_policies",
        "action_events",
        "action_txs",
        "action_dry_runs",
        "action_approvals",
        "emergency_actions",
    ):
        op.drop_table(table)
