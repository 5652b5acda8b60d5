"""What the engine's campaigns hold of a symbol, for comparing with the broker's account.

A broker keeps one position per symbol for the whole account, while the engine keeps one per
campaign. Shares missing at the broker are taken from the campaigns opened last: each campaign
may count on what the broker holds beyond the open shares of the campaigns opened before it
(by creation, then id), so campaigns reconciling one after another never both book the same
missing shares.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.domain.vocabulary import OrderStatus


@dataclass(frozen=True, slots=True)
class SymbolClaims:
    held_before: Decimal
    """Open shares of the campaigns on the symbol opened before this one."""
    orders_in_flight: bool
    """An order of some campaign on the symbol is still open: shares are on their way, so a
    difference now proves nothing."""


# One row back, summed by the database: the campaigns on the symbol opened before this one
# (by creation, then id, compared as bytes), all of them if this one is not there; whether an
# order of any campaign on the symbol is open. Only the symbol's rows are read (by index), so a
# poll costs the same whatever the other symbols hold.
_CLAIMS = text(
    """
    WITH mine AS (
        SELECT created_at, campaign_id FROM campaigns
        WHERE campaign_id = :campaign_id AND symbol = :symbol
    ), on_symbol AS (
        SELECT campaign_id, created_at FROM campaigns WHERE symbol = :symbol
    )
    SELECT
        (SELECT coalesce(sum(p.open_shares), 0)
           FROM positions p JOIN on_symbol c ON c.campaign_id = p.campaign_id
          WHERE NOT EXISTS (SELECT 1 FROM mine)
             OR (c.created_at, c.campaign_id COLLATE "C")
                < (SELECT created_at, campaign_id COLLATE "C" FROM mine)),
        EXISTS (SELECT 1 FROM orders o JOIN on_symbol c ON c.campaign_id = o.campaign_id
                 WHERE o.status = :open)
    """
)


async def symbol_claims(engine: AsyncEngine, symbol: str, campaign_id: str) -> SymbolClaims:
    params = {"symbol": symbol, "campaign_id": campaign_id, "open": OrderStatus.OPEN.value}
    async with engine.connect() as conn:
        held_before, in_flight = (await conn.execute(_CLAIMS, params)).one()
    return SymbolClaims(held_before=Decimal(held_before), orders_in_flight=bool(in_flight))
