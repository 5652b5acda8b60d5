"""price intake rows keep the trace of the request that accepted them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00

``POST /prices`` answers before its prices reach any campaign: another task (perhaps another
process) delivers them. While the API traces, each row keeps its request's W3C
``traceparent``, and the bar it goes out in is sent under a span of that trace, so the exits
a price causes are in the trace of the request that brought it. NULL when not tracing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "price_intake",
        sa.Column(
            "traceparent",
            sa.String(length=128),
            nullable=True,
            comment="the accepting request's W3C traceparent, while the API traces",
        ),
    )


def downgrade() -> None:
    op.drop_column("price_intake", "traceparent")
