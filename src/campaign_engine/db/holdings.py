"""What the engine's campaigns hold of each symbol, for comparing with the broker's account
(see ``domain.account`` for how the account's shares are apportioned among them).

``symbol_books`` serves the holdings reconciler: every symbol's claims in one query.
``symbol_claims`` serves the ``broker_holding`` activity (kept registered, though no campaign
run calls it any more): the same apportioning, summed by the database for one campaign.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.domain.account import Claim
from campaign_engine.domain.vocabulary import OrderStatus


@dataclass(frozen=True, slots=True)
class SymbolBook:
    claims: tuple[Claim, ...]
    """The campaigns holding shares of the symbol, in the order opened."""
    orders_in_flight: bool
    """An order of some campaign on the symbol is open at the broker: shares are on their way,
    so a difference now proves nothing."""
    ended: tuple[str, ...] = ()
    """Campaigns among ``claims`` that have ended (INVALIDATED, COMPLETED) and hold shares all
    the same: an exit the broker would not take (flat means flat)."""


# Every campaign holding shares (with the revision its snapshot was persisted at, which
# ``carry_out`` writes in the same transaction as its positions and orders), and whether an
# order on its symbol is open. One statement: one snapshot of the database.
_BOOKS = """
    WITH busy AS (SELECT DISTINCT symbol FROM orders WHERE status = :open {orders_filter})
    SELECT c.symbol, c.campaign_id, c.created_at, s.revision, sum(p.open_shares),
           b.symbol IS NOT NULL, c.status IN ('INVALIDATED', 'COMPLETED')
      FROM campaigns c
      JOIN positions p ON p.campaign_id = c.campaign_id
      JOIN campaign_snapshots s ON s.campaign_id = c.campaign_id
      LEFT JOIN busy b ON b.symbol = c.symbol
     WHERE p.open_shares > 0 {campaigns_filter}
     GROUP BY c.symbol, c.campaign_id, c.created_at, s.revision, b.symbol, c.status
     ORDER BY c.symbol, c.created_at, c.campaign_id COLLATE "C"
"""
_ALL_BOOKS = text(_BOOKS.format(orders_filter="", campaigns_filter=""))
_SOME_BOOKS = text(
    _BOOKS.format(
        orders_filter="AND symbol = ANY(:symbols)", campaigns_filter="AND c.symbol = ANY(:symbols)"
    )
)


async def symbol_books(
    conn: AsyncConnection, symbols: Sequence[str] | None = None
) -> dict[str, SymbolBook]:
    """What the campaigns hold of every symbol (of ``symbols`` only, when given)."""
    params: dict[str, object] = {"open": OrderStatus.OPEN.value}
    if symbols is not None:
        params["symbols"] = list(symbols)
    statement = _ALL_BOOKS if symbols is None else _SOME_BOOKS
    claims: dict[str, list[Claim]] = {}
    busy: set[str] = set()
    ended: dict[str, list[str]] = {}
    for row in await conn.execute(statement, params):
        symbol, campaign_id, created_at, revision, open_shares, in_flight, has_ended = row
        if has_ended:
            ended.setdefault(symbol, []).append(campaign_id)
        claims.setdefault(symbol, []).append(
            Claim(
                campaign_id=campaign_id,
                created_at=created_at,
                revision=int(revision),
                open_shares=Decimal(open_shares),
            )
        )
        if in_flight:
            busy.add(symbol)
    return {
        symbol: SymbolBook(
            claims=tuple(rows),
            orders_in_flight=symbol in busy,
            ended=tuple(ended.get(symbol, ())),
        )
        for symbol, rows in claims.items()
    }


# Symbols of campaigns that ended lately (their last save, by the server's clock: a campaign's
# own times are market times), which no campaign holds shares of and no campaign has an order
# open on: the broker's account should hold none of them.
_ENDED_FLAT = text(
    """
    SELECT DISTINCT c.symbol FROM campaigns c
      JOIN campaign_snapshots s ON s.campaign_id = c.campaign_id
     WHERE c.closed_at IS NOT NULL AND s.updated_at >= :since
       AND NOT EXISTS (SELECT 1 FROM campaigns h JOIN positions p ON p.campaign_id = h.campaign_id
                        WHERE h.symbol = c.symbol AND p.open_shares > 0)
       AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.symbol = c.symbol AND o.status = :open)
     ORDER BY c.symbol
    """
)


async def ended_flat_symbols(conn: AsyncConnection, since: datetime) -> tuple[str, ...]:
    """Symbols whose campaigns all ended holding nothing, one of them saved at or after
    ``since``: what the account should hold none of."""
    params = {"since": since, "open": OrderStatus.OPEN.value}
    return tuple(row[0] for row in await conn.execute(_ENDED_FLAT, params))


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
