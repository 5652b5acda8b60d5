"""price intake cursors keep the market time of their symbol's newest bar

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:30:00

Any API process appends to the intake, but only one delivers it (the one holding the price
delivery lock). The process that accepted an update tells the client whether it came too late
(older than a bar its symbol has made already) from here, not from the deliverer's memory.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "price_intake_cursors",
        sa.Column(
            "bar_as_of",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="the market time of the newest bar made of the symbol's rows",
        ),
    )


def downgrade() -> None:
    op.drop_column("price_intake_cursors", "bar_as_of")
