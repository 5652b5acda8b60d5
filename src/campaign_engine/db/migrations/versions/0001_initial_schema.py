"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:01:42.751262
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = """
CREATE FUNCTION audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_trail_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only();
CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "allocation_plans",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("pattern", sa.String(length=8), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("target_risk_pct", sa.Numeric(precision=16, scale=8), nullable=True),
        sa.Column("requested_risk_pct", sa.Numeric(precision=16, scale=8), nullable=True),
        sa.Column("approved_risk_pct", sa.Numeric(precision=16, scale=8), nullable=True),
        sa.Column("actual_risk_pct", sa.Numeric(precision=16, scale=8), nullable=False),
        sa.Column("shares", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("risk_amount", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("remaining_budget_pct", sa.Numeric(precision=16, scale=8), nullable=False),
        sa.Column("heat_after_pct", sa.Numeric(precision=16, scale=8), nullable=True),
        sa.Column("priority_score", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("is_rebalanced", sa.Boolean(), nullable=False),
        sa.Column("rebalance_reason", sa.Text(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("rejection_code", sa.String(length=32), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signal_id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index(
        op.f("ix_allocation_plans_campaign_id"), "allocation_plans", ["campaign_id"], unique=False
    )
    op.create_table(
        "audit_trail",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        comment="append-only: UPDATE, DELETE and TRUNCATE are refused by triggers",
    )
    op.create_index("ix_audit_trail_campaign", "audit_trail", ["campaign_id", "seq"], unique=False)
    op.create_table(
        "broker_orders",
        sa.Column("client_order_id", sa.String(length=128), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filled_quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("order", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("fills", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id"),
        comment="the paper broker's own book, keyed by client order id",
    )
    op.create_table(
        "campaign_exposure",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("open_risk", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("reserved_risk", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("realized_pnl", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "campaign_snapshots",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
        comment="the full domain state per campaign id, also of ids whose first signal was refused",
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=16), nullable=False),
        sa.Column("trading_range_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("total_allocation", sa.Numeric(precision=16, scale=8), nullable=False),
        sa.Column("open_risk", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("reserved_risk", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("realized_pnl", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("creek", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("ice", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("jump", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("spring_low", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("last_price", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("last_price_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invalidation_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("phase IN ('ACCUMULATION', 'MARKUP')", name="ck_campaigns_phase"),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED')", name="ck_campaigns_status"
        ),
        sa.CheckConstraint("total_allocation >= 0", name="ck_campaigns_allocation"),
        sa.CheckConstraint("version >= 1", name="ck_campaigns_version"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id"),
        sa.UniqueConstraint("trading_range_id"),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"], unique=False)
    op.create_index("ix_campaigns_symbol_status", "campaigns", ["symbol", "status"], unique=False)
    op.create_table(
        "portfolio",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("starting_equity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_portfolio_singleton"),
        sa.PrimaryKeyConstraint("id"),
        comment="one row; entry reservations lock it so that limits hold across campaigns",
    )
    op.create_table(
        "risk_reservations",
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("admission", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signal_id"),
    )
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("limit_price", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("expected_price", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filled_quantity", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.campaign_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("client_order_id"),
    )
    op.create_index(op.f("ix_orders_campaign_id"), "orders", ["campaign_id"], unique=False)
    op.create_table(
        "positions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("signal_id", sa.Uuid(), nullable=False),
        sa.Column("pattern", sa.String(length=8), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("entry_price", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("initial_stop", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("stop", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("targets", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("targets_hit", sa.SmallInteger(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("risk_pct", sa.Numeric(precision=16, scale=8), nullable=False),
        sa.Column("planned_shares", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("shares", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("open_shares", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("realized_pnl", sa.Numeric(precision=24, scale=8), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('PENDING', 'OPEN', 'CLOSED')", name="ck_positions_status"),
        sa.CheckConstraint(
            "open_shares >= 0 AND open_shares <= shares", name="ck_positions_shares"
        ),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.campaign_id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signal_id"),
    )
    op.create_index(op.f("ix_positions_campaign_id"), "positions", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_positions_status"), "positions", ["status"], unique=False)

    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_trail_no_truncate ON audit_trail")
    op.execute("DROP TRIGGER IF EXISTS audit_trail_no_update_or_delete ON audit_trail")
    op.execute("DROP FUNCTION IF EXISTS audit_trail_append_only()")
    op.drop_index(op.f("ix_positions_status"), table_name="positions")
    op.drop_index(op.f("ix_positions_campaign_id"), table_name="positions")
    op.drop_table("positions")
    op.drop_index(op.f("ix_orders_campaign_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_table("risk_reservations")
    op.drop_table("portfolio")
    op.drop_index("ix_campaigns_symbol_status", table_name="campaigns")
    op.drop_index("ix_campaigns_status", table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("campaign_snapshots")
    op.drop_table("campaign_exposure")
    op.drop_table("broker_orders")
    op.drop_index("ix_audit_trail_campaign", table_name="audit_trail")
    op.drop_table("audit_trail")
    op.drop_index(op.f("ix_allocation_plans_campaign_id"), table_name="allocation_plans")
    op.drop_table("allocation_plans")
