"""A campaign marked to market: its open shares valued at the newest price known for its symbol.

A campaign writes nothing when a price crosses none of its levels, so what the read model
holds of it (its last price, its unrealized P&L) stands still between levels. The newest
price the API accepted for the symbol moves with the market: a campaign is marked at
whichever of the two is newer in market time (its own on a tie: that is the price it took).
Marks are for showing the book; no decision reads them.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.positions import Position
from campaign_engine.domain.types import MoneyValue, PriceValue


@dataclass(frozen=True, slots=True)
class Quote:
    """A symbol's price at a moment of market time."""

    price: PriceValue
    as_of: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignMark:
    """One campaign's P&L at ``price`` (None: no price known yet), against its positions at
    ``version``."""

    campaign_id: str
    version: int
    price: PriceValue | None
    as_of: datetime | None
    unrealized_pnl: MoneyValue
    total_pnl: MoneyValue
    r_multiple: Decimal | None


def newer_quote(own: Quote | None, accepted: Quote | None) -> Quote | None:
    """The campaign's own last price or the symbol's newest accepted one, whichever is newer
    in market time; the campaign's own on a tie."""
    if own is None:
        return accepted
    if accepted is None or accepted.as_of <= own.as_of:
        return own
    return accepted


def mark_campaign(
    *,
    campaign_id: str,
    version: int,
    positions: tuple[Position, ...],
    equity: MoneyValue,
    quote: Quote | None,
) -> CampaignMark:
    """The campaign's P&L and R with its open shares at ``quote`` (as SPEC section 6 counts
    them: realized plus unrealized, over the risk taken at entry)."""
    summary = summarize(positions, mark=None if quote is None else quote.price, equity=equity)
    return CampaignMark(
        campaign_id=campaign_id,
        version=version,
        price=None if quote is None else quote.price,
        as_of=None if quote is None else quote.as_of,
        unrealized_pnl=summary.unrealized_pnl,
        total_pnl=summary.total_pnl,
        r_multiple=summary.r_multiple,
    )
