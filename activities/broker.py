"""The broker activities a campaign calls outside ``carry_out``, on whichever broker the
worker was given (see ``campaign_engine.brokers``)."""

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from campaign_engine.brokers.protocol import Broker
from campaign_engine.db.holdings import symbol_claims
from campaign_engine.domain.money import NO_SHARES
from campaign_engine.temporal.messages import (
    BROKER_HOLDING,
    GET_ORDER,
    BrokerOrder,
    Holding,
    HoldingRequest,
    OrderRequest,
)


class BrokerActivities:
    """How an order placed earlier stands now (its fills, for a run that waits on an order
    left open, and for reconciliation), and what the account holds of a symbol."""

    def __init__(self, broker: Broker, engine: AsyncEngine) -> None:
        self._broker = broker
        self._engine = engine

    @activity.defn(name=GET_ORDER)
    async def get_order(self, request: OrderRequest) -> BrokerOrder:
        return await self._broker.get_order(request.client_order_id)

    @activity.defn(name=BROKER_HOLDING)
    async def broker_holding(self, request: HoldingRequest) -> Holding:
        """The shares the account holds for one campaign. No campaign run asks it any more
        (the holdings reconciler finds shares sold by hand, ``services/holdings_reconciler.py``);
        it stays registered under its name, which is part of the activity contract."""
        claims = await symbol_claims(self._engine, request.symbol, request.campaign_id)
        if claims.orders_in_flight:
            return Holding(available=None)
        held = await self._broker.position(request.symbol)
        return Holding(available=max(held - claims.held_before, NO_SHARES))
