"""The paper broker: fills every order at once by the SPEC fill model; its book in PostgreSQL."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.order_row import FILLS_JSON, placed_row
from campaign_engine.brokers.protocol import UnknownBrokerOrder
from campaign_engine.db.statements import (
    BROKER_POSITION,
    CANCEL_BROKER_ORDER,
    GET_BROKER_ORDER,
    PLACE_BROKER_ORDER,
    driver,
)
from campaign_engine.domain.orders import Fill, Order, outside_its_bar, paper_fill
from campaign_engine.domain.vocabulary import OrderStatus
from campaign_engine.temporal.messages import BrokerOrder


class PaperBroker:
    """Fills every order at once at the price the SPEC fill model gives (the order's
    ``expected_price``), time-stamped with the order's creation, so a replayed scenario fills
    identically. An order triggered by a bar whose expected price lies outside that bar's
    range is refused (``REJECTED`` with the reason, SPEC section 11), never filled.

    Its book lives in PostgreSQL, so a worker killed between submitting and
    recording an order finds the order again instead of placing it twice.

    Each call is on the hot path of a decision, so it runs the ready SQL of
    ``db/statements.py`` on psycopg, a write and the read of its result in one round trip."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def submit(self, order: Order) -> BrokerOrder:
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            async with pg.pipeline():
                refusal = outside_its_bar(order, order.expected_price)
                fills = () if refusal is not None else self.fills_on_submit(order)
                placed = placed_row(order, fills, reason=refusal)
                await pg.execute(PLACE_BROKER_ORDER.sql, placed)
                # Read back in the same transaction: the row just placed, or the one an earlier
                # submission placed (this one then changed nothing).
                found = await pg.execute(
                    GET_BROKER_ORDER, {"client_order_id": order.client_order_id}
                )
            return _broker_order(order.client_order_id, await found.fetchone())

    def fills_on_submit(self, order: Order) -> tuple[Fill, ...]:
        """What fills as the order is placed: by the paper fill model, all of it at once, at
        its creation. A broker double that leaves orders resting says less here."""
        return (paper_fill(order, order.created_at),)

    async def cancel(self, client_order_id: str) -> BrokerOrder:
        cancel = {
            "client_order_id": client_order_id,
            "open": OrderStatus.OPEN.value,
            "cancelled": OrderStatus.CANCELLED.value,
            "now": datetime.now(UTC),
        }
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            async with pg.pipeline():
                await pg.execute(CANCEL_BROKER_ORDER, cancel)
                found = await pg.execute(GET_BROKER_ORDER, {"client_order_id": client_order_id})
            return _broker_order(client_order_id, await found.fetchone())

    async def get_order(self, client_order_id: str) -> BrokerOrder:
        async with self._engine.connect() as conn:
            pg = await driver(conn)
            found = await pg.execute(GET_BROKER_ORDER, {"client_order_id": client_order_id})
            return _broker_order(client_order_id, await found.fetchone())

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]:
        return (await self.get_order(client_order_id)).fills

    async def position(self, symbol: str) -> Decimal:
        async with self._engine.connect() as conn:
            pg = await driver(conn)
            found = await pg.execute(BROKER_POSITION, {"symbol": symbol})
            row = await found.fetchone()
            return Decimal(row[0]) if row is not None else Decimal(0)

    async def blocking_buys(self, order: Order) -> tuple[str, ...]:
        """None: the paper broker has no wash-trade rule."""
        return ()


def _broker_order(client_order_id: str, row: tuple[Any, ...] | None) -> BrokerOrder:
    if row is None:
        raise UnknownBrokerOrder(f"no order {client_order_id}")
    status, filled_quantity, fills, reason = row
    return BrokerOrder(
        client_order_id=client_order_id,
        status=OrderStatus(status),
        filled_quantity=filled_quantity,
        fills=FILLS_JSON.validate_json(fills),
        reason=reason,
    )
