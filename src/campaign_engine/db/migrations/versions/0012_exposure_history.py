"""each campaign's exposure kept at every version, for the book's history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:40:00

``campaign_exposure`` holds each campaign's risk and P&L as its last save left them; the book's
history (equity and heat over time, realized P&L by market day) needs them at every change.
Each save now appends its row here too (keyed by its snapshot revision: several saves may
share a campaign version), at the market time of the change. A database that had
campaigns before starts their history with one row each, as they stand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(precision=38, scale=8)  # as migration 0008 widened money


def upgrade() -> None:
    op.create_table(
        "exposure_history",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True, comment="the save's snapshot revision"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("open_risk", _MONEY, nullable=False),
        sa.Column("reserved_risk", _MONEY, nullable=False),
        sa.Column("realized_pnl", _MONEY, nullable=False),
        sa.Column("unrealized_pnl", _MONEY, nullable=False),
        comment="append-only: each campaign's exposure as each save left it, at the market time "
        "of the change (the book's history: equity, heat and realized P&L over time)",
    )
    op.create_index("ix_exposure_history_occurred_at", "exposure_history", ["occurred_at"])
    op.execute(
        "INSERT INTO exposure_history (campaign_id, revision, version, occurred_at, symbol,"
        " open_risk, reserved_risk, realized_pnl, unrealized_pnl)"
        " SELECT e.campaign_id, s.revision, e.version, c.updated_at, e.symbol, e.open_risk,"
        " e.reserved_risk, e.realized_pnl, e.unrealized_pnl FROM campaign_exposure e"
        " JOIN campaigns c ON c.campaign_id = e.campaign_id"
        " JOIN campaign_snapshots s ON s.campaign_id = e.campaign_id"
    )


def downgrade() -> None:
    op.drop_index("ix_exposure_history_occurred_at", "exposure_history")
    op.drop_table("exposure_history")
