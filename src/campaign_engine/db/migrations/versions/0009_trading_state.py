"""the portfolio's trading state, and each campaign's unrealized P&L

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:00:00

SPEC section 11: the portfolio is ACTIVE, REDUCING or HALTED; a daily loss or drawdown limit
(realized plus unrealized) halts it. The portfolio row holds the state and what the rule
remembers (the equity peak, the market day and its opening equity); each campaign's exposure
row holds its unrealized P&L, so marked equity is one sum.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(38, 8)  # the width migration 0008 gave money


def upgrade() -> None:
    op.add_column(
        "portfolio",
        sa.Column("trading_state", sa.String(16), nullable=False, server_default="ACTIVE"),
    )
    op.add_column("portfolio", sa.Column("trading_state_reason", sa.Text(), nullable=True))
    op.add_column(
        "portfolio", sa.Column("trading_state_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("portfolio", sa.Column("equity_peak", MONEY, nullable=True))
    op.add_column(
        "portfolio",
        sa.Column(
            "market_day", sa.Date(), nullable=True, comment="UTC date of the last assessed change"
        ),
    )
    op.add_column("portfolio", sa.Column("day_open_equity", MONEY, nullable=True))
    op.add_column(
        "portfolio",
        sa.Column("last_equity", MONEY, nullable=True, comment="marked equity last assessed"),
    )
    op.create_check_constraint(
        "ck_portfolio_trading_state",
        "portfolio",
        "trading_state IN ('ACTIVE', 'REDUCING', 'HALTED')",
    )
    # Existing rows get 0 (their next save writes the figure); new rows always give it.
    op.add_column(
        "campaign_exposure",
        sa.Column(
            "unrealized_pnl",
            MONEY,
            nullable=False,
            server_default="0",
            comment="open shares at the last price",
        ),
    )
    op.alter_column("campaign_exposure", "unrealized_pnl", server_default=None)


def downgrade() -> None:
    op.drop_column("campaign_exposure", "unrealized_pnl")
    op.drop_constraint("ck_portfolio_trading_state", "portfolio", type_="check")
    for column in (
        "last_equity",
        "day_open_equity",
        "market_day",
        "equity_peak",
        "trading_state_at",
        "trading_state_reason",
        "trading_state",
    ):
        op.drop_column("portfolio", column)
