"""durable price intake: accepted prices, the publisher's cursor per symbol, deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:00:00

``POST /prices`` appends what it accepts to ``price_intake`` (one transaction per request)
before answering 202; the price publisher delivers from there and records how far it got, so
a publisher started after a crash resumes where the last one stopped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_intake",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("price_update", sa.dialects.postgresql.JSONB(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq"),
        comment="price updates accepted by the API, append-only, in the order accepted",
    )
    op.create_index("ix_price_intake_symbol_seq", "price_intake", ["symbol", "seq"], unique=False)
    op.create_table(
        "price_intake_cursors",
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("flushed_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("symbol"),
        comment="per symbol, the last intake row merged into a bar the publisher has made",
    )
    op.create_table(
        "price_deliveries",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("delivered_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sending_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
        comment="per campaign, the market time of the last bar it surely took and of the "
        "last bar sent to it",
    )


def downgrade() -> None:
    op.drop_table("price_deliveries")
    op.drop_table("price_intake_cursors")
    op.drop_index("ix_price_intake_symbol_seq", table_name="price_intake")
    op.drop_table("price_intake")
