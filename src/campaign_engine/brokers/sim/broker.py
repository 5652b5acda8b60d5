"""The simulated broker's side the campaigns call (the ``Broker`` protocol): it places orders
in the book, refuses some, fills an exit's first part at once and cancels. The bars that fill
what rests are the exchange's (``exchange.py``), in the process that publishes prices."""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.order_row import placed_row
from campaign_engine.brokers.sim import book
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.brokers.sim.matching import fill_on_submit
from campaign_engine.brokers.sim.refusals import (
    refused_by_rate,
    refused_for_buying_power,
    refused_outside_its_bar,
)
from campaign_engine.brokers.wash_trade import WASH_TRADE_MESSAGE, could_trade_against
from campaign_engine.db.statements import BROKER_POSITION, PLACE_BROKER_ORDER, driver
from campaign_engine.domain.orders import BrokerOrder, Fill, Order
from campaign_engine.domain.vocabulary import OrderSide


class SimBroker:
    """Orders in the book, as a broker that does not fill at once holds them.

    - An entry (BUY limit) rests: nothing fills as it is placed.
    - An exit (SELL) fills ``fill_fraction`` of itself at once at its expected price: its
      campaign placed it on the bar that crossed its level (SPEC's fill model); the rest rests.
    - An order may be refused (``REJECTED`` with the reason, never an exception): a
      deterministic share of all orders (``reject_rate``), a BUY that would take the money
      committed past ``buying_power``, an order whose fill would lie outside the bar that
      triggered it, and with ``wash_trade_rule`` a SELL that could trade against an open BUY
      on its symbol (``brokers/wash_trade.py``).
    - With ``pending_cancels`` a cancel leaves the order open until it is next looked up.

    Submitting the same client order id again answers the order placed first, and changes
    nothing; a refused id stays refused (a broker never takes an id twice)."""

    def __init__(self, engine: AsyncEngine, config: SimConfig) -> None:
        self._engine = engine
        self._config = config

    async def submit(self, order: Order) -> BrokerOrder:
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            # Decided afresh for a submission already placed too (a retry is rare), and then
            # thrown away: the first placement stands.
            reason = refused_outside_its_bar(order) or refused_by_rate(order, self._config)
            if reason is None and await self._blocking_buys(pg, order):
                reason = WASH_TRADE_MESSAGE
            if (
                reason is None
                and order.side is OrderSide.BUY
                and self._config.buying_power is not None
            ):
                await pg.execute(book.LOCK_BUYING_POWER)
                committed = await book.committed_money(pg)
                reason = refused_for_buying_power(order, committed=committed, config=self._config)
            fill = None if reason is not None else fill_on_submit(order, self._config)
            fills: tuple[Fill, ...] = () if fill is None else (fill,)
            row = placed_row(order, fills, reason=reason, last_bar_at=order.created_at)
            async with pg.pipeline():
                await pg.execute(PLACE_BROKER_ORDER.sql, row)
                # The row just placed, or the one placed first under this id.
                found = await pg.execute(book.GET_ORDER, {"client_order_id": order.client_order_id})
            return book.answer(order.client_order_id, await found.fetchone())

    async def cancel(self, client_order_id: str) -> BrokerOrder:
        async with self._engine.begin() as conn:
            pending = self._config.pending_cancels
            return await book.cancel(await driver(conn), client_order_id, pending=pending)

    async def get_order(self, client_order_id: str) -> BrokerOrder:
        async with self._engine.begin() as conn:
            pg = await driver(conn)
            if self._config.pending_cancels:
                await book.confirm_cancel(pg, client_order_id)
            return await book.get_order(pg, client_order_id)

    async def blocking_buys(self, order: Order) -> tuple[str, ...]:
        async with self._engine.connect() as conn:
            return await self._blocking_buys(await driver(conn), order)

    async def _blocking_buys(self, pg: Any, order: Order) -> tuple[str, ...]:
        if not self._config.wash_trade_rule or order.side is not OrderSide.SELL:
            return ()
        return tuple(
            client_order_id
            for client_order_id, buy_limit in await book.open_buys(pg, order.symbol)
            if could_trade_against(sell_limit=order.limit_price, buy_limit=buy_limit)
        )

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]:
        return (await self.get_order(client_order_id)).fills

    async def position(self, symbol: str) -> Decimal:
        async with self._engine.connect() as conn:
            pg = await driver(conn)
            row = await (await pg.execute(BROKER_POSITION, {"symbol": symbol})).fetchone()
            return Decimal(row[0]) if row is not None else Decimal(0)
