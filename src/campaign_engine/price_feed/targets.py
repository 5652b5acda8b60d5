"""Who the price publisher sends bars to: the open campaigns of a symbol (each from the market
time of the signal that opened it), and the market listeners that see every bar first; how a
send fails; and the journal a durable publisher records its progress in."""

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.price_deliveries import Delivery, Restored
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import CampaignStatus


@dataclass(frozen=True, slots=True)
class OpenCampaign:
    campaign_id: str
    opened_at: datetime
    """The market time of the entry signal that opened the campaign."""


class MarketListener(Protocol):
    async def on_bar(self, bar: PriceUpdate) -> None:
        """A new bar of ``bar.symbol`` (every update since the previous one, merged)."""
        ...


class CampaignDirectory(Protocol):
    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]: ...


class DatabaseDirectory:
    """Open campaigns from the PostgreSQL read model: every open campaign in one query, cached
    for ``ttl`` seconds, so the publisher's catch-up costs one query a second however many
    symbols it holds bars of.

    A campaign the cache does not know yet loses nothing: when it first appears, the
    publisher sends it every bar since it opened."""

    def __init__(self, engine: AsyncEngine, *, ttl: float = 1.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._read_at = float("-inf")
        self._by_symbol: dict[str, list[OpenCampaign]] = {}
        self._reading = asyncio.Lock()

    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        async with self._reading:  # one query for every symbol flushed meanwhile
            if time.monotonic() - self._read_at >= self._ttl:
                await self._read()
        return self._by_symbol.get(symbol, [])

    async def _read(self) -> None:
        # Every campaign not ended takes prices: a QUARANTINED one still runs its exits, and an
        # invalidated one not closed yet still holds shares it could not sell: each price offers
        # them again (flat means flat, ``domain/campaign/flat.py``).
        ended = [status.value for status in CampaignStatus if status.is_terminal]
        waiting_to_be_flat = and_(
            campaigns.c.status == CampaignStatus.INVALIDATED.value,
            campaigns.c.closed_at.is_(None),
        )
        query = select(campaigns.c.campaign_id, campaigns.c.symbol, campaigns.c.created_at).where(
            or_(campaigns.c.status.notin_(ended), waiting_to_be_flat)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        by_symbol: dict[str, list[OpenCampaign]] = {}
        for row in rows:
            # A campaign's created_at is its first entry signal's market time.
            by_symbol.setdefault(row.symbol, []).append(
                OpenCampaign(row.campaign_id, row.created_at)
            )
        self._by_symbol = by_symbol
        self._read_at = time.monotonic()


class DeliveryJournal(Protocol):
    """Where a publisher records how far it got (db/price_intake.py's ``PriceIntake``)."""

    async def restore(self) -> Restored: ...
    async def record(
        self, symbol: str, flushed: tuple[int, datetime] | None, sending: Sequence[Delivery]
    ) -> None: ...
    async def settle(self, arrived: Mapping[str, datetime]) -> None: ...
    async def prune(self, keep: int) -> int: ...


class SendFailed(Exception):
    """A campaign could not be reached; its bars are kept and merged into the next send."""


class Gone(Exception):
    """The campaign's workflow has ended: stop sending to it."""
