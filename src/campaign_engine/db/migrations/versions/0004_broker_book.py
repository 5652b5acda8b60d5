"""the broker's book knows each order's type, limit, expected price, refusal reason and the
last bar matched against it (the simulated broker)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICE = sa.Numeric(precision=18, scale=8)


def upgrade() -> None:
    op.add_column("broker_orders", sa.Column("order_type", sa.String(length=8), nullable=True))
    op.add_column("broker_orders", sa.Column("limit_price", PRICE, nullable=True))
    op.add_column("broker_orders", sa.Column("expected_price", PRICE, nullable=True))
    op.add_column(
        "broker_orders",
        sa.Column(
            "reason",
            sa.Text(),
            nullable=True,
            comment="the broker's words when it refused the order",
        ),
    )
    op.add_column(
        "broker_orders",
        sa.Column(
            "last_bar_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="market time of the last bar matched against the order: never matched twice",
        ),
    )
    # Orders booked before: their type and prices are in the order as placed. (Null for a row
    # the engine did not place: shares sold at the broker by hand.)
    op.execute(
        "UPDATE broker_orders SET order_type = \"order\"->>'order_type',"
        " limit_price = (\"order\"->>'limit_price')::numeric,"
        " expected_price = (\"order\"->>'expected_price')::numeric"
    )
    op.create_index(
        "ix_broker_orders_open_by_symbol",
        "broker_orders",
        ["symbol"],
        postgresql_where=sa.text("status = 'OPEN'"),
    )
    op.create_table_comment(
        "broker_orders",
        "the broker's own book (paper or simulated), keyed by client order id",
        existing_comment="the paper broker's own book, keyed by client order id",
    )


def downgrade() -> None:
    op.create_table_comment(
        "broker_orders",
        "the paper broker's own book, keyed by client order id",
        existing_comment="the broker's own book (paper or simulated), keyed by client order id",
    )
    op.drop_index("ix_broker_orders_open_by_symbol", table_name="broker_orders")
    for column in ("last_bar_at", "reason", "expected_price", "limit_price", "order_type"):
        op.drop_column("broker_orders", column)
