"""The database schema (SQLAlchemy Core), by what the tables hold: ``columns`` (the metadata and
the column types), ``ledger`` (the campaigns), ``broker`` (the paper broker's book) and
``prices``. Alembic migrations create it; a test checks that the migrations and these modules
agree. Import the tables from here."""

from campaign_engine.db.schema.broker import broker_orders
from campaign_engine.db.schema.columns import (
    CAMPAIGN_ID,
    MONEY,
    PERCENT,
    PRICE,
    QUANTITY,
    SYMBOL,
    metadata,
)
from campaign_engine.db.schema.ledger import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaign_snapshots,
    campaigns,
    exposure_history,
    orders,
    outbox,
    portfolio,
    positions,
    risk_reservations,
)
from campaign_engine.db.schema.prices import (
    price_bars,
    price_deliveries,
    price_holds,
    price_intake,
    price_intake_cursors,
    price_screens,
)

__all__ = [
    "CAMPAIGN_ID",
    "MONEY",
    "PERCENT",
    "PRICE",
    "QUANTITY",
    "SYMBOL",
    "allocation_plans",
    "audit_trail",
    "broker_orders",
    "campaign_exposure",
    "campaign_snapshots",
    "campaigns",
    "exposure_history",
    "metadata",
    "orders",
    "outbox",
    "portfolio",
    "positions",
    "price_bars",
    "price_deliveries",
    "price_holds",
    "price_intake",
    "price_intake_cursors",
    "price_screens",
    "risk_reservations",
]
