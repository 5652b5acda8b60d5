"""positions keep what their filled shares cost

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:30:00

A broker may fill an entry better than its limit, in parts at several prices. The position's
P&L, risk and R follow the price its shares filled at (``entry_cost`` / ``shares``), while
``entry_price`` stays the planned one. NULL in a row written before: its shares cost the planned
price.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "positions",
        sa.Column(
            "entry_cost",
            sa.Numeric(precision=38, scale=8),  # money, as migration 0008 widened it
            nullable=True,
            comment="what the filled shares cost at their fill prices; NULL: the planned price",
        ),
    )


def downgrade() -> None:
    op.drop_column("positions", "entry_cost")
