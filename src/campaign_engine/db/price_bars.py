"""Prices as the API accepted them, kept for the dashboard's charts and marks (the campaigns
take them from the publisher, which keeps none past its window): written in the transaction
that appends them to the intake (db/price_intake.py), read per symbol."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.schema import price_bars
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.types import PriceValue

MAX_BARS = 2_000
CHANNEL = "price_bars"  # notified at the commit of every record, with its symbols
EVERY_SYMBOL = "*"
_MAX_PAYLOAD = 7_000  # bytes: PostgreSQL takes up to 8,000 in a notification


def priced_symbols(symbols: set[str]) -> str:
    """A notification's payload: the symbols, comma-separated (a symbol has no comma), or
    ``EVERY_SYMBOL`` when they would not fit."""
    payload = ",".join(sorted(symbols))
    return payload if len(payload.encode()) <= _MAX_PAYLOAD else EVERY_SYMBOL


def symbols_priced(payload: str) -> set[str] | None:
    """The symbols of a payload; None: every symbol."""
    return None if payload == EVERY_SYMBOL else {s for s in payload.split(",") if s}


@dataclass(frozen=True, slots=True)
class PriceBar:
    symbol: str
    as_of: datetime
    open: PriceValue
    high: PriceValue
    low: PriceValue
    close: PriceValue


def bar_of(update: PriceUpdate) -> PriceBar:
    """A tick is a bar whose four prices are the one price."""
    return PriceBar(
        update.symbol,
        update.as_of,
        update.bar_open,
        update.bar_high,
        update.bar_low,
        update.last,
    )


async def record_bars(conn: AsyncConnection, updates: Sequence[PriceUpdate]) -> None:
    """``updates`` as bars, in the caller's transaction (the intake's append: what the intake
    takes, the charts and the marks have, and at the same commit)."""
    if not updates:
        return
    rows = [
        {
            "symbol": b.symbol,
            "as_of": b.as_of,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
        }
        for b in map(bar_of, updates)
    ]
    await conn.execute(insert(price_bars), rows)
    # The live stream marks the campaigns holding these symbols (api.live), told at the
    # commit, in commit order: a notification is not lost to a later commit.
    await conn.execute(
        text("SELECT pg_notify(:channel, :symbols)"),
        {"channel": CHANNEL, "symbols": priced_symbols({u.symbol for u in updates})},
    )


class PriceBars:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, updates: Sequence[PriceUpdate]) -> None:
        """Bars the intake does not hold (a seeded book's, a test's)."""
        if updates:
            async with self._engine.begin() as conn:
                await record_bars(conn, updates)

    async def last(
        self, symbol: str, *, until: datetime | None = None, limit: int = MAX_BARS
    ) -> list[PriceBar]:
        """The newest ``limit`` bars of ``symbol`` up to ``until`` (all when None), oldest
        first."""
        if not 1 <= limit <= MAX_BARS:
            raise ValueError(f"limit must be between 1 and {MAX_BARS}, got {limit}")
        query = select(price_bars).where(price_bars.c.symbol == symbol)
        if until is not None:
            query = query.where(price_bars.c.as_of <= until)
        query = query.order_by(price_bars.c.as_of.desc(), price_bars.c.seq.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [PriceBar(r.symbol, r.as_of, r.open, r.high, r.low, r.close) for r in reversed(rows)]
