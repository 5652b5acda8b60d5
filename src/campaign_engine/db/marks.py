"""Campaigns marked to market from what the database holds: each symbol's newest accepted price
(``price_bars``) and the campaigns' positions (the rule is ``domain.marks``). Nothing here
writes: the list, the portfolio and the live stream all read marks this way, so they agree."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.records import CampaignRecord, position_from_row
from campaign_engine.db.schema import campaigns, positions
from campaign_engine.domain.marks import CampaignMark, Quote, mark_campaign, newer_quote
from campaign_engine.domain.positions import Position
from campaign_engine.domain.types import MoneyValue, PriceValue

# One index probe per symbol (ix_price_bars_symbol_as_of), however long the table grows.
_NEWEST_QUOTES = text(
    "SELECT s.symbol, b.close, b.as_of FROM unnest(CAST(:symbols AS text[])) AS s(symbol)"
    " CROSS JOIN LATERAL (SELECT close, as_of FROM price_bars p WHERE p.symbol = s.symbol"
    " ORDER BY p.as_of DESC, p.seq DESC LIMIT 1) AS b"
)


async def newest_quotes(conn: AsyncConnection, symbols: Collection[str]) -> dict[str, Quote]:
    """Per symbol, the newest price the API accepted for it (in market time)."""
    if not symbols:
        return {}
    rows = await conn.execute(_NEWEST_QUOTES, {"symbols": sorted(set(symbols))})
    return {r.symbol: Quote(PriceValue(Decimal(r.close)), r.as_of) for r in rows}


async def positions_of(
    conn: AsyncConnection, campaign_ids: Collection[str]
) -> dict[str, tuple[Position, ...]]:
    """Every position of each campaign, in the order the read model lists them."""
    if not campaign_ids:
        return {}
    rows = await conn.execute(
        select(positions)
        .where(positions.c.campaign_id.in_(sorted(set(campaign_ids))))
        .order_by(positions.c.campaign_id, positions.c.approved_at, positions.c.id)
    )
    held: defaultdict[str, list[Position]] = defaultdict(list)
    for row in rows:
        held[row.campaign_id].append(position_from_row(row))
    return {campaign_id: tuple(found) for campaign_id, found in held.items()}


@dataclass(frozen=True, slots=True)
class MarkInputs:
    """What marking some campaigns needs, read once."""

    positions: Mapping[str, tuple[Position, ...]]
    quotes: Mapping[str, Quote]
    equity: MoneyValue

    def mark(self, record: CampaignRecord) -> CampaignMark:
        own = (
            Quote(record.last_price, record.last_price_at)
            if record.last_price is not None and record.last_price_at is not None
            else None
        )
        return mark_campaign(
            campaign_id=record.campaign_id,
            version=record.version,
            positions=self.positions.get(record.campaign_id, ()),
            equity=self.equity,
            quote=newer_quote(own, self.quotes.get(record.symbol)),
        )


async def mark_inputs(
    conn: AsyncConnection, records: Iterable[CampaignRecord], equity: MoneyValue
) -> MarkInputs:
    listed = list(records)
    return MarkInputs(
        positions=await positions_of(conn, [r.campaign_id for r in listed]),
        quotes=await newest_quotes(conn, {r.symbol for r in listed}),
        equity=equity,
    )


async def marks_of(
    conn: AsyncConnection, records: Iterable[CampaignRecord], equity: MoneyValue
) -> dict[str, CampaignMark]:
    """Each campaign of ``records`` marked at the newer of its own last price and its
    symbol's newest accepted one."""
    listed = list(records)
    inputs = await mark_inputs(conn, listed, equity)
    return {r.campaign_id: inputs.mark(r) for r in listed}


async def holding_marks(
    conn: AsyncConnection, equity: MoneyValue, symbols: Collection[str] | None = None
) -> dict[str, CampaignMark]:
    """The marks of every campaign that holds shares now (the others have no unrealized
    P&L), of ``symbols`` only when given."""
    holding = select(positions.c.campaign_id).where(positions.c.open_shares > 0)
    if symbols is not None:
        holding = holding.where(positions.c.symbol.in_(sorted(set(symbols))))
    rows = await conn.execute(select(campaigns).where(campaigns.c.campaign_id.in_(holding)))
    return await marks_of(conn, [CampaignRecord.from_row(r, equity) for r in rows], equity)
