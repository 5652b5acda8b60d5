"""A broker double that leaves entry orders resting, as a real broker does with a limit order
the market has not traded through yet. Exits fill at once as at the paper broker.

It keeps its book in the paper broker's table, so a worker killed and restarted finds the
resting order again, and a test fills it "at the broker" while no worker looks
(``fill_at_broker``). Run a worker with it: ``python -m tests.support.resting_broker``.
"""

import asyncio
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.db.schema import broker_orders
from campaign_engine.db.settings import prepare_database
from campaign_engine.domain.orders import Fill, Order
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus
from campaign_engine.settings import load_settings
from campaign_engine.temporal import connect
from campaign_engine.worker import build_worker

_FILLS = TypeAdapter(tuple[Fill, ...])


class RestingEntryBroker(PaperBroker):
    def fills_on_submit(self, order: Order) -> tuple[Fill, ...]:
        """An entry rests at its limit: nothing fills as it is placed."""
        if order.purpose is OrderPurpose.ENTRY:
            return ()
        return super().fills_on_submit(order)


async def fill_at_broker(engine: AsyncEngine, client_order_id: str, fill: Fill) -> None:
    """The market trades through the resting order: the broker fills it whole."""
    async with engine.begin() as conn:
        await conn.execute(
            update(broker_orders)
            .where(broker_orders.c.client_order_id == client_order_id)
            .values(
                status=OrderStatus.FILLED.value,
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
    async with build_worker(client, engine, settings, broker=RestingEntryBroker(engine)):
        await asyncio.Event().wait()  # until the test kills the process


if __name__ == "__main__":
    asyncio.run(_serve())
