"""The broker edge: a protocol any broker adapter implements, a deterministic paper broker,
and the activities that reach whichever broker the worker was given."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from campaign_engine.db.statements import (
    CANCEL_BROKER_ORDER,
    GET_BROKER_ORDER,
    PLACE_BROKER_ORDER,
    driver,
    json_param,
)
from campaign_engine.domain.orders import Fill, Order, paper_fill
from campaign_engine.domain.vocabulary import OrderStatus
from campaign_engine.messages import GET_ORDER, BrokerOrder, OrderRequest

_ORDER = TypeAdapter(Order)
_FILLS = TypeAdapter(tuple[Fill, ...])


class UnknownBrokerOrder(LookupError):
    """The broker has no order with that client order id."""


class Broker(Protocol):
    """What the engine needs of a broker. Orders are keyed by the engine's client order id:
    submitting the same id again must return the existing order, never place a second one."""

    async def submit(self, order: Order) -> BrokerOrder: ...

    async def cancel(self, client_order_id: str) -> BrokerOrder: ...

    async def get_order(self, client_order_id: str) -> BrokerOrder: ...

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]: ...


class PaperBroker:
    """Fills every order at once at the price the SPEC fill model gives (the order's
    ``expected_price``), time-stamped with the order's creation, so a replayed scenario fills
    identically. Its book lives in PostgreSQL, so a worker killed between submitting and
    recording an order finds the order again instead of placing it twice.

    Each call is on the hot path of a decision, so it runs the ready SQL of
    ``db/statements.py`` on psycopg, a write and the read of its result in one round trip."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def submit(self, order: Order) -> BrokerOrder:
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            async with pg.pipeline():
                placed = _placed_row(order, self.fills_on_submit(order))
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


def _placed_row(order: Order, fills: tuple[Fill, ...]) -> dict[str, Any]:
    filled = sum((f.quantity for f in fills), Decimal(0))
    now = datetime.now(UTC)
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "status": (OrderStatus.FILLED if filled == order.quantity else OrderStatus.OPEN).value,
        "filled_quantity": filled,
        "order": json_param(_ORDER, order),
        "fills": json_param(_FILLS, fills),
        "submitted_at": now,
        "updated_at": now,
    }


def _broker_order(client_order_id: str, row: tuple[Any, ...] | None) -> BrokerOrder:
    if row is None:
        raise UnknownBrokerOrder(f"no order {client_order_id}")
    status, filled_quantity, fills = row
    return BrokerOrder(
        client_order_id=client_order_id,
        status=OrderStatus(status),
        filled_quantity=filled_quantity,
        fills=_FILLS.validate_json(fills),
    )


class BrokerActivities:
    """What a campaign asks its broker outside ``carry_out``: how an order placed earlier
    stands now (its fills, for a run that waits on an order left open)."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    @activity.defn(name=GET_ORDER)
    async def get_order(self, request: OrderRequest) -> BrokerOrder:
        return await self._broker.get_order(request.client_order_id)
