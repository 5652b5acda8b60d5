"""The database schema (SQLAlchemy Core). Alembic migrations create it; a test checks that the
migrations and this module agree."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from campaign_engine.domain.types import (
    MONEY_DIGITS,
    PERCENT_DIGITS,
    PRICE_DIGITS,
    PRICE_PLACES,
    QUANTITY_DIGITS,
    SYMBOL_MAX_LENGTH,
)

metadata = MetaData()

# The value domain's widths (domain/types.py): every value a layer holds fits these columns.
PRICE = Numeric(PRICE_DIGITS, PRICE_PLACES)
MONEY = Numeric(MONEY_DIGITS, PRICE_PLACES)
QUANTITY = Numeric(QUANTITY_DIGITS, PRICE_PLACES)
PERCENT = Numeric(PERCENT_DIGITS, PRICE_PLACES)
SYMBOL = String(SYMBOL_MAX_LENGTH)
CAMPAIGN_ID = String(64)

_STATUSES = "status IN ('ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED', 'QUARANTINED')"


def _ts(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("campaign_id", CAMPAIGN_ID, nullable=False, unique=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("timeframe", String(16), nullable=False),
    Column("trading_range_id", Uuid, nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("total_allocation", PERCENT, nullable=False),
    Column("open_risk", MONEY, nullable=False),
    Column("reserved_risk", MONEY, nullable=False),
    Column("realized_pnl", MONEY, nullable=False),
    Column("creek", PRICE, nullable=False),
    Column("ice", PRICE, nullable=False),
    Column("jump", PRICE, nullable=False),
    Column("spring_low", PRICE),
    Column("last_price", PRICE),
    _ts("last_price_at"),
    Column("invalidation_reason", Text),
    Column("quarantine_reason", Text),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("closed_at"),
    CheckConstraint(_STATUSES, name="ck_campaigns_status"),
    CheckConstraint("phase IN ('ACCUMULATION', 'MARKUP')", name="ck_campaigns_phase"),
    CheckConstraint("version >= 1", name="ck_campaigns_version"),
    CheckConstraint("total_allocation >= 0", name="ck_campaigns_allocation"),
    Index("ix_campaigns_status", "status"),
    Index("ix_campaigns_symbol_status", "symbol", "status"),
)

campaign_snapshots = Table(
    "campaign_snapshots",
    metadata,
    Column("campaign_id", CAMPAIGN_ID, primary_key=True),
    Column("revision", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", JSONB, nullable=False),
    _ts("updated_at", nullable=False),
    comment="the full domain state per campaign id, also of ids whose first signal was refused",
)

positions = Table(
    "positions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "campaign_id",
        CAMPAIGN_ID,
        ForeignKey("campaigns.campaign_id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("signal_id", Uuid, nullable=False, unique=True),
    Column("pattern", String(8), nullable=False),
    Column("symbol", SYMBOL, nullable=False),
    Column("status", String(8), nullable=False, index=True),
    Column("entry_price", PRICE, nullable=False),
    Column("initial_stop", PRICE, nullable=False),
    Column("stop", PRICE, nullable=False),
    Column("targets", JSONB, nullable=False),
    Column("targets_hit", SmallInteger, nullable=False),
    Column("weight", Numeric(6, 4), nullable=False),
    Column("risk_pct", PERCENT, nullable=False),
    Column("planned_shares", QUANTITY, nullable=False),
    Column("shares", QUANTITY, nullable=False),
    Column("open_shares", QUANTITY, nullable=False),
    Column("realized_pnl", MONEY, nullable=False),
    Column(
        "entry_cost",
        MONEY,
        comment="what the filled shares cost at their fill prices; NULL: the planned price",
    ),
    _ts("approved_at", nullable=False),
    _ts("opened_at"),
    _ts("closed_at"),
    Column("version", Integer, nullable=False),
    CheckConstraint("status IN ('PENDING', 'OPEN', 'CLOSED')", name="ck_positions_status"),
    CheckConstraint("open_shares >= 0 AND open_shares <= shares", name="ck_positions_shares"),
)

allocation_plans = Table(
    "allocation_plans",
    metadata,
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("signal_id", Uuid, primary_key=True),
    Column("campaign_id", CAMPAIGN_ID, nullable=False, index=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("pattern", String(8), nullable=False),
    Column("weight", Numeric(6, 4)),
    Column("target_risk_pct", PERCENT),
    Column("requested_risk_pct", PERCENT),
    Column("approved_risk_pct", PERCENT),
    Column("actual_risk_pct", PERCENT, nullable=False),
    Column("shares", QUANTITY, nullable=False),
    Column("risk_amount", MONEY, nullable=False),
    Column("remaining_budget_pct", PERCENT, nullable=False),
    Column("heat_after_pct", PERCENT),
    Column("priority_score", Numeric(8, 4), nullable=False),
    Column("is_rebalanced", Boolean, nullable=False),
    Column("rebalance_reason", Text),
    Column("approved", Boolean, nullable=False),
    Column("rejection_code", String(32)),
    Column("rejection_reason", Text),
    _ts("decided_at", nullable=False),
    Column(
        "policy_id",
        String(16),
        comment="id of the policy that decided; null for plans decided before it was kept",
    ),
)

orders = Table(
    "orders",
    metadata,
    Column("client_order_id", String(128), primary_key=True),
    Column(
        "campaign_id",
        CAMPAIGN_ID,
        ForeignKey("campaigns.campaign_id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("position_id", Uuid, nullable=False),
    Column("symbol", SYMBOL, nullable=False),
    Column("side", String(4), nullable=False),
    Column("order_type", String(8), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("limit_price", PRICE),
    Column("expected_price", PRICE, nullable=False),
    Column("status", String(16), nullable=False),
    Column("filled_quantity", QUANTITY, nullable=False),
    Column("correlation_id", String(128), nullable=False),
    _ts("created_at", nullable=False),
    Column("version", Integer, nullable=False),
)

audit_trail = Table(
    "audit_trail",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("event_id", String(256), nullable=False, unique=True),
    Column("campaign_id", CAMPAIGN_ID, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    _ts("occurred_at", nullable=False),
    Column("correlation_id", String(128), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "txid",
        BigInteger,
        nullable=False,
        server_default=text("(pg_current_xact_id()::text)::bigint"),
        comment="the recording transaction: the stream reads in (txid, seq) order",
    ),
    Index("ix_audit_trail_campaign", "campaign_id", "seq"),
    Index("ix_audit_trail_stream", "txid", "seq"),
    # A trigger also notifies channel ``campaign_events`` once per transaction that appends.
    comment="append-only: UPDATE, DELETE and TRUNCATE are refused by triggers",
)

outbox = Table(
    "outbox",
    metadata,
    Column(
        "audit_seq",
        BigInteger,
        ForeignKey("audit_trail.seq", ondelete="RESTRICT"),
        primary_key=True,
        autoincrement=False,
    ),
    comment="audit trail entries not yet announced: written with them, deleted once relayed",
)

portfolio = Table(
    "portfolio",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("starting_equity", MONEY, nullable=False),
    # The trading state (SPEC section 11) and what its rule remembers (domain.trading_state).
    Column("trading_state", String(16), nullable=False, server_default="ACTIVE"),
    Column("trading_state_reason", Text, nullable=True),
    _ts("trading_state_at"),
    Column("equity_peak", MONEY, nullable=True),
    Column("market_day", Date, nullable=True, comment="UTC date of the last assessed change"),
    Column("day_open_equity", MONEY, nullable=True),
    Column("last_equity", MONEY, nullable=True, comment="marked equity last assessed"),
    CheckConstraint("id = 1", name="ck_portfolio_singleton"),
    CheckConstraint(
        "trading_state IN ('ACTIVE', 'REDUCING', 'HALTED')", name="ck_portfolio_trading_state"
    ),
    comment="one row; entry reservations lock it so that limits hold across campaigns",
)

campaign_exposure = Table(
    "campaign_exposure",
    metadata,
    Column("campaign_id", CAMPAIGN_ID, primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    Column("open_risk", MONEY, nullable=False),
    Column("reserved_risk", MONEY, nullable=False),
    Column("realized_pnl", MONEY, nullable=False),
    Column("unrealized_pnl", MONEY, nullable=False, comment="open shares at the last price"),
    Column("version", Integer, nullable=False),
    _ts("updated_at", nullable=False),
)

exposure_history = Table(
    "exposure_history",
    metadata,
    Column("campaign_id", CAMPAIGN_ID, primary_key=True),
    Column("revision", Integer, primary_key=True, comment="the save's snapshot revision"),
    Column("version", Integer, nullable=False),
    _ts("occurred_at", nullable=False),
    Column("symbol", SYMBOL, nullable=False),
    Column("open_risk", MONEY, nullable=False),
    Column("reserved_risk", MONEY, nullable=False),
    Column("realized_pnl", MONEY, nullable=False),
    Column("unrealized_pnl", MONEY, nullable=False),
    Index("ix_exposure_history_occurred_at", "occurred_at"),
    comment="append-only: each campaign's exposure as each save left it, at the market time "
    "of the change (the book's history: equity, heat and realized P&L over time)",
)
risk_reservations = Table(
    "risk_reservations",
    metadata,
    Column("signal_id", Uuid, primary_key=True),
    Column("campaign_id", CAMPAIGN_ID, nullable=False),
    Column("admission", JSONB, nullable=False),
    _ts("created_at", nullable=False),
)

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
    _ts("submitted_at", nullable=False),
    _ts("updated_at", nullable=False),
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

price_bars = Table(
    "price_bars",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("symbol", SYMBOL, nullable=False),
    _ts("as_of", nullable=False),
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
    _ts("held_at", nullable=False),
    Column("status", String(16), nullable=False),
    _ts("resolved_at"),
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
    _ts("delivered_until"),
    _ts("sending_until", nullable=False),
    comment="per campaign, the market time of the last bar it surely took and of the last "
    "bar sent to it",
)
