"""The broker activities a campaign calls outside ``carry_out``, on whichever broker the
worker was given (see ``campaign_engine.brokers``)."""

from temporalio import activity

from campaign_engine.brokers.protocol import Broker
from campaign_engine.messages import GET_ORDER, BrokerOrder, OrderRequest


class BrokerActivities:
    """How an order placed earlier stands now (its fills, for a run that waits on an order
    left open, and for reconciliation)."""

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    @activity.defn(name=GET_ORDER)
    async def get_order(self, request: OrderRequest) -> BrokerOrder:
        return await self._broker.get_order(request.client_order_id)
