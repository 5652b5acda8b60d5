"""What the engine's campaigns hold of a symbol, for comparing with the broker's account.

A broker keeps one position per symbol for the whole account, while the engine keeps one per
campaign. Shares missing at the broker are taken from the campaigns opened last: each campaign
may count on what the broker holds beyond the open shares of the campaigns opened before it
(by creation, then id), so campaigns reconciling one after another never both book the same
missing shares.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.schema import campaigns, orders, positions
from campaign_engine.domain.vocabulary import OrderStatus


@dataclass(frozen=True, slots=True)
class SymbolClaims:
    held_before: Decimal
    """Open shares of the campaigns on the symbol opened before this one."""
    orders_in_flight: bool
    """An order of some campaign on the symbol is still open: shares are on their way, so a
    difference now proves nothing."""


async def symbol_claims(engine: AsyncEngine, symbol: str, campaign_id: str) -> SymbolClaims:
    open_shares = (
        select(positions.c.campaign_id, func.sum(positions.c.open_shares).label("shares"))
        .group_by(positions.c.campaign_id)
        .subquery()
    )
    rows = select(
        campaigns.c.campaign_id,
        campaigns.c.created_at,
        func.coalesce(open_shares.c.shares, 0),
        exists().where(
            and_(
                orders.c.campaign_id == campaigns.c.campaign_id,
                orders.c.status == OrderStatus.OPEN.value,
            )
        ),
    ).select_from(
        campaigns.outerjoin(open_shares, open_shares.c.campaign_id == campaigns.c.campaign_id)
    )
    async with engine.connect() as conn:
        found = (await conn.execute(rows.where(campaigns.c.symbol == symbol))).all()
    ordered = sorted(found, key=lambda row: (row[1], row[0]))
    held_before = Decimal(0)
    for campaign, _, shares, _ in ordered:
        if campaign == campaign_id:
            break
        held_before += Decimal(shares)
    return SymbolClaims(held_before=held_before, orders_in_flight=any(row[3] for row in ordered))
