"""What every table is made of: the one ``MetaData`` and the column types of the value domain's
widths (``domain/types.py``), so that every value a layer holds fits its column."""

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    Numeric,
    String,
)

from campaign_engine.domain.types import (
    MONEY_DIGITS,
    PERCENT_DIGITS,
    PRICE_DIGITS,
    PRICE_PLACES,
    QUANTITY_DIGITS,
    SYMBOL_MAX_LENGTH,
)

metadata = MetaData()

PRICE = Numeric(PRICE_DIGITS, PRICE_PLACES)
MONEY = Numeric(MONEY_DIGITS, PRICE_PLACES)
QUANTITY = Numeric(QUANTITY_DIGITS, PRICE_PLACES)
PERCENT = Numeric(PERCENT_DIGITS, PRICE_PLACES)
SYMBOL = String(SYMBOL_MAX_LENGTH)
CAMPAIGN_ID = String(64)

# A campaign's statuses, as its table checks them.
STATUSES = "status IN ('ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED', 'QUARANTINED')"


def ts(name: str, *, nullable: bool = True) -> Column[object]:
    """A moment, always with its zone (stored as UTC)."""
    return Column(name, DateTime(timezone=True), nullable=nullable)
