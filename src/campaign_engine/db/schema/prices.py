"""The prices' tables: the bars the API accepted (charts and marks), the durable intake with
its cursors and deliveries, and the bad-print screen and its holds."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    Numeric,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from campaign_engine.db.schema.columns import CAMPAIGN_ID, PRICE, SYMBOL, metadata, ts

price_bars = Table(
    "price_bars",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    ts("as_of", nullable=False),
    Column("open", PRICE, nullable=False),
    Column("high", PRICE, nullable=False),
    Column("low", PRICE, nullable=False),
    Column("close", PRICE, nullable=False),
    Index("ix_price_bars_symbol_as_of", "symbol", "as_of"),
    comment="prices accepted by the API, as posted, for the dashboard's charts",
)

# The durable price intake (migration 0006; see db/price_intake.py).
price_intake = Table(
    "price_intake",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("price_update", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Migration 0013: the bar a row goes out in is sent in its request's trace.
    Column(
        "traceparent",
        String(128),
        nullable=True,
        comment="the accepting request's W3C traceparent, while the API traces",
    ),
    Index("ix_price_intake_symbol_seq", "symbol", "seq"),
    comment="price updates accepted by the API, append-only, in the order accepted",
)

price_intake_cursors = Table(
    "price_intake_cursors",
    metadata,
    Column("symbol", SYMBOL, primary_key=True),
    Column("flushed_seq", BigInteger, nullable=False),
    # Migration 0007: what an accepting process compares an update with (too late or not).
    Column(
        "bar_as_of",
        DateTime(timezone=True),
        nullable=True,
        comment="the market time of the newest bar made of the symbol's rows",
    ),
    comment="per symbol, the last intake row merged into a bar the publisher has made",
)

# Bad prints (migration 0008; see db/price_screens.py and domain/print_screen.py). Prices are
# NUMERIC without a scale here: a bad print is often one that no PRICE column holds exactly.
price_screens = Table(
    "price_screens",
    metadata,
    Column("symbol", SYMBOL, primary_key=True),
    Column("reference", Numeric(), nullable=False, comment="the last accepted price"),
    comment="per symbol, the last accepted price new updates are screened against",
)

price_holds = Table(
    "price_holds",
    metadata,
    Column("hold_id", BigInteger, Identity(), primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("price_update", JSONB, nullable=False),
    Column("reference", Numeric(), nullable=False, comment="the last accepted price then"),
    ts("held_at", nullable=False),
    Column("status", String(16), nullable=False),
    ts("resolved_at"),
    Column("resolution", Text, nullable=True, comment="why it is no longer held"),
    CheckConstraint(
        "status IN ('held', 'confirmed', 'released', 'discarded')", name="ck_price_holds_status"
    ),
    Index(
        "ux_price_holds_one_held",
        "symbol",
        unique=True,
        postgresql_where=text("status = 'held'"),
    ),
    comment="price updates held back as bad prints, and what became of each",
)

price_deliveries = Table(
    "price_deliveries",
    metadata,
    Column("campaign_id", CAMPAIGN_ID, primary_key=True),
    ts("delivered_until"),
    ts("sending_until", nullable=False),
    comment="per campaign, the market time of the last bar it surely took and of the last "
    "bar sent to it",
)
