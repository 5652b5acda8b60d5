"""Carrying out a committed campaign change in one activity: persist it, then reach the
broker. One activity instead of one per effect saves a workflow task and an activity task
per step, which is most of what a decision costs after it is made."""

import structlog
from temporalio import activity

from campaign_engine.activities.failures import is_permanent, refused
from campaign_engine.brokers.protocol import Broker, UnknownBrokerOrder
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.messages import CARRY_OUT, CarriedOut, CarryOutRequest
from campaign_engine.observability import report_trading_state

log = structlog.get_logger("campaign_engine.effects")


class EffectActivities:
    def __init__(self, repository: CampaignRepository, broker: Broker) -> None:
        self._repository = repository
        self._broker = broker

    @activity.defn(name=CARRY_OUT)
    async def carry_out(self, request: CarryOutRequest) -> CarriedOut:
        """Idempotent end to end, so a retry after any step is safe: the save ignores what it
        already wrote, and the broker returns an order it already has by client order id."""
        try:
            assessed = await self._repository.save(request)
        except Exception as error:
            if is_permanent(error):
                log.error(
                    "change_refused",
                    campaign_id=request.state.campaign_id,
                    revision=request.revision,
                    error=f"{type(error).__name__}: {error}",
                )
                raise refused(error, f"revision {request.revision} cannot be saved") from error
            raise
        if assessed is not None:
            report_trading_state(
                assessed.state, assessed.change, campaign_id=request.state.campaign_id
            )
        cancelled = []
        for client_order_id in request.cancellations:
            try:
                cancelled.append(await self._broker.cancel(client_order_id))
            except UnknownBrokerOrder:  # never reached the broker: nothing to cancel
                log.warning("cancel_of_unknown_order", client_order_id=client_order_id)
        placed = [await self._broker.submit(order) for order in request.orders]
        return CarriedOut(orders=tuple(placed), cancelled=tuple(cancelled))
