"""A broker double that leaves entry orders resting, as a real broker does with a limit order
the market has not traded through yet. Exits fill at once as at the paper broker.

It keeps its book in the paper broker's table, so a worker killed and restarted finds the
resting order again, and a test fills it "at the broker" while no worker looks
(``fill_at_broker``) or sells shares there by hand (``sell_by_hand``). Run a worker with it:
``python -m tests.support.resting_broker``; with ``RESTING_CANCEL=loses_race`` a cancel finds
the order already filled, as when the market traded through the limit just before it.
"""

import asyncio
import os
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from pydantic import TypeAdapter
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.db.bootstrap import prepare_database
from campaign_engine.db.schema import broker_orders
from campaign_engine.domain.orders import BrokerOrder, Fill, Order, paper_fill
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus
from campaign_engine.runtime.settings import load_settings
from campaign_engine.temporal.connection import connect
from campaign_engine.worker import build_worker

_FILLS = TypeAdapter(tuple[Fill, ...])
_ORDER = TypeAdapter(Order)


class RestingEntryBroker(PaperBroker):
    def fills_on_submit(self, order: Order) -> tuple[Fill, ...]:
        """An entry rests at its limit: nothing fills as it is placed."""
        if order.purpose is OrderPurpose.ENTRY:
            return ()
        return super().fills_on_submit(order)


class CancelLosesRaceBroker(RestingEntryBroker):
    async def cancel(self, client_order_id: str) -> BrokerOrder:
        """The market traded through the limit a moment before the cancel arrived: the whole
        order filled, and the cancel finds nothing left to cancel."""
        async with self._engine.connect() as conn:
            stored = await conn.scalar(
                select(broker_orders.c.order).where(
                    broker_orders.c.client_order_id == client_order_id
                )
            )
        if stored is not None:
            order = _ORDER.validate_python(stored)
            await fill_at_broker(self._engine, client_order_id, paper_fill(order, order.created_at))
        return await super().cancel(client_order_id)


async def sell_by_hand(engine: AsyncEngine, symbol: str, quantity: Decimal) -> None:
    """Someone sells shares in the account at the broker, outside the engine."""
    await trade_by_hand(engine, symbol, "SELL", quantity)


async def trade_by_hand(engine: AsyncEngine, symbol: str, side: str, quantity: Decimal) -> None:
    """Someone buys or sells shares in the account at the broker, outside the engine."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            insert(broker_orders).values(
                client_order_id=f"by-hand-{uuid4()}",
                symbol=symbol,
                side=side,
                quantity=quantity,
                status=OrderStatus.FILLED.value,
                filled_quantity=quantity,
                order={},
                fills=[],
                submitted_at=now,
                updated_at=now,
            )
        )


async def fill_at_broker(
    engine: AsyncEngine, client_order_id: str, fill: Fill, *, status: str = "FILLED"
) -> None:
    """The market trades through the resting order: the broker fills it (whole, unless the
    test says it is still ``OPEN`` after this fill)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(broker_orders)
            .where(broker_orders.c.client_order_id == client_order_id)
            .values(
                status=OrderStatus(status).value,
                filled_quantity=fill.quantity,
                fills=_FILLS.dump_python((fill,), mode="json"),
                updated_at=datetime.now(UTC),
            )
        )


async def _serve() -> None:
    """The production worker, composed with this broker instead of the paper broker."""
    settings = load_settings()
    engine = await prepare_database(settings)
    client = await connect(settings)
    loses_race = os.environ.get("RESTING_CANCEL") == "loses_race"
    broker = CancelLosesRaceBroker(engine) if loses_race else RestingEntryBroker(engine)
    async with build_worker(client, engine, settings, broker=broker):
        await asyncio.Event().wait()  # until the test kills the process


if __name__ == "__main__":
    asyncio.run(_serve())
