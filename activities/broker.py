"""The broker edge: a protocol any broker adapter implements, a deterministic paper broker,
and the activities that reach whichever broker the worker was given."""

from datetime import UTC, datetime
from typing import Protocol

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from campaign_engine.db.schema import broker_orders
from campaign_engine.domain.orders import Fill, Order, paper_fill
from campaign_engine.domain.vocabulary import OrderStatus
from campaign_engine.messages import (
    CANCEL_ORDER,
    GET_ORDER,
    SUBMIT_ORDER,
    BrokerOrder,
    OrderRequest,
)

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
    recording an order finds the order again instead of placing it twice."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def submit(self, order: Order) -> BrokerOrder:
        fill = paper_fill(order, order.created_at)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(broker_orders)
                .values(
                    client_order_id=order.client_order_id,
                    symbol=order.symbol,
                    side=order.side.value,
                    quantity=order.quantity,
                    status=OrderStatus.FILLED.value,
                    filled_quantity=fill.quantity,
                    order=_ORDER.dump_python(order, mode="json"),
                    fills=_FILLS.dump_python((fill,), mode="json"),
                    submitted_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=[broker_orders.c.client_order_id])
            )
        return await self.get_order(order.client_order_id)

    async def cancel(self, client_order_id: str) -> BrokerOrder:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(broker_orders)
                .where(
                    broker_orders.c.client_order_id == client_order_id,
                    broker_orders.c.status == OrderStatus.OPEN.value,
                )
                .values(status=OrderStatus.CANCELLED.value, updated_at=datetime.now(UTC))
            )
        return await self.get_order(client_order_id)

    async def get_order(self, client_order_id: str) -> BrokerOrder:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(broker_orders).where(broker_orders.c.client_order_id == client_order_id)
                )
            ).first()
        if row is None:
            raise UnknownBrokerOrder(f"no order {client_order_id}")
        return BrokerOrder(
            client_order_id=row.client_order_id,
            status=OrderStatus(row.status),
            filled_quantity=row.filled_quantity,
            fills=_FILLS.validate_python(row.fills),
        )

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]:
        return (await self.get_order(client_order_id)).fills


class BrokerActivities:
    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    @activity.defn(name=SUBMIT_ORDER)
    async def submit_order(self, order: Order) -> BrokerOrder:
        return await self._broker.submit(order)

    @activity.defn(name=CANCEL_ORDER)
    async def cancel_order(self, request: OrderRequest) -> BrokerOrder:
        try:
            return await self._broker.cancel(request.client_order_id)
        except UnknownBrokerOrder as error:  # never submitted: nothing to cancel
            raise ApplicationError(
                str(error), type="UnknownBrokerOrder", non_retryable=True
            ) from None

    @activity.defn(name=GET_ORDER)
    async def get_order(self, request: OrderRequest) -> BrokerOrder:
        return await self._broker.get_order(request.client_order_id)
