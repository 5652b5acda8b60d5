"""The paper broker's own book of orders."""

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from campaign_engine.db.schema.columns import PRICE, QUANTITY, SYMBOL, metadata, ts

broker_orders = Table(
    "broker_orders",
    metadata,
    Column("client_order_id", String(128), primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("status", String(16), nullable=False),
    Column("filled_quantity", QUANTITY, nullable=False),
    Column("order", JSONB, nullable=False),
    Column("fills", JSONB, nullable=False),
    ts("submitted_at", nullable=False),
    ts("updated_at", nullable=False),
    # Null for a row the engine did not place (shares sold at the broker by hand).
    Column("order_type", String(8), nullable=True),
    Column("limit_price", PRICE, nullable=True),
    Column("expected_price", PRICE, nullable=True),
    Column("reason", Text, nullable=True, comment="the broker's words when it refused the order"),
    Column(
        "last_bar_at",
        DateTime(timezone=True),
        nullable=True,
        comment="market time of the last bar matched against the order: never matched twice",
    ),
    Index(
        "ix_broker_orders_open_by_symbol",
        "symbol",
        postgresql_where=text("status = 'OPEN'"),
    ),
    comment="the broker's own book (paper or simulated), keyed by client order id",
)
