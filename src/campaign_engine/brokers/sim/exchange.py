"""The simulated exchange: every bar the price publisher accepts for a symbol is matched
against the orders resting in the book on that symbol, and each order a bar changed is pushed
to the campaign that placed it.

It runs where prices are published (the API process), not in the worker, so orders keep
filling while no worker runs; Temporal keeps the pushes for the campaigns until one does."""

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.protocol import OrderUpdates
from campaign_engine.brokers.sim import book
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.brokers.sim.matching import match
from campaign_engine.db.statements import driver
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.orders import BrokerOrder

log = structlog.get_logger("campaign_engine.brokers.sim")


class SimExchange:
    """A market listener of the price publisher (``on_bar``)."""

    def __init__(self, engine: AsyncEngine, config: SimConfig, updates: OrderUpdates) -> None:
        self._engine = engine
        self._config = config
        self._updates = updates
        self.fills_made = 0

    async def on_bar(self, bar: PriceUpdate) -> None:
        changed = await self.match(bar)
        for campaign_id, update in changed:
            try:
                await self._updates.deliver(campaign_id, update)
            except Exception as error:
                # The campaign asks the broker for its open orders while it waits on them, so
                # a push that fails is only late.
                log.warning(
                    "order_update_not_delivered",
                    campaign_id=campaign_id,
                    client_order_id=update.client_order_id,
                    error=str(error),
                )

    async def match(self, bar: PriceUpdate) -> list[tuple[str, BrokerOrder]]:
        """Fill what ``bar`` trades through, in one transaction; each changed order with the
        campaign it belongs to. A bar not newer than one already matched against an order
        leaves that order alone, so a bar seen twice (by two processes) fills once."""
        changed: list[tuple[str, BrokerOrder]] = []
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            for booked in await book.resting_orders(pg, bar.symbol, bar.as_of):
                fill = match(booked.resting, bar, self._config)
                if fill is not None:
                    update = await book.record_fill(pg, fill, bar.as_of)
                    changed.append((booked.campaign_id, update))
        self.fills_made += len(changed)
        return changed
