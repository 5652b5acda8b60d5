"""the value domain's widths, and quarantined campaigns

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:30:00

The value domain (domain/types.py) bounds a price at 10^9 and a position at 10^12 shares, so
money the rules derive (a position's P&L) reaches 10^21: NUMERIC(24, 8) held only 10^16, and a
save past it failed for good. NUMERIC(38, 8) holds it, with room for sums across campaigns.
Widening a NUMERIC keeps every value as it was.

A campaign whose change could not be carried out for good is QUARANTINED, with its reason.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = {
    "campaigns": ("open_risk", "reserved_risk", "realized_pnl"),
    "positions": ("realized_pnl",),
    "allocation_plans": ("risk_amount",),
    "portfolio": ("starting_equity",),
    "campaign_exposure": ("open_risk", "reserved_risk", "realized_pnl"),
}


def _retype(width: "sa.Numeric[Decimal]", was: "sa.Numeric[Decimal]") -> None:
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=width, existing_type=was)


_STATUSES = "status IN ('ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED'{})"


def _statuses(check: str) -> None:
    op.drop_constraint("ck_campaigns_status", "campaigns", type_="check")
    op.create_check_constraint("ck_campaigns_status", "campaigns", check)


def upgrade() -> None:
    _retype(sa.Numeric(38, 8), sa.Numeric(24, 8))
    op.add_column("campaigns", sa.Column("quarantine_reason", sa.Text(), nullable=True))
    _statuses(_STATUSES.format(", 'QUARANTINED'"))


def downgrade() -> None:
    _statuses(_STATUSES.format(""))
    op.drop_column("campaigns", "quarantine_reason")
    _retype(sa.Numeric(24, 8), sa.Numeric(38, 8))
