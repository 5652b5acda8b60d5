"""Order changes a broker learned of by itself, pushed to the campaign that placed the order
as its ``order_update`` signal. Temporal keeps a signal for a run whose worker is down, so a
fill the broker made meanwhile is booked when the worker is back."""

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from campaign_engine.temporal.messages import ORDER_UPDATE, BrokerOrder, workflow_id_for

log = structlog.get_logger("campaign_engine.brokers")


class CampaignOrderUpdates:
    """An ``OrderUpdates`` sink that signals the campaign's workflow."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None:
        handle = self._client.get_workflow_handle(workflow_id_for(campaign_id))
        try:
            await handle.signal(ORDER_UPDATE, update)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            # The campaign's run has ended: nothing is waiting for this order any more. Its
            # next run (or reconciliation) asks the broker directly.
            log.warning(
                "order_update_for_ended_campaign",
                campaign_id=campaign_id,
                client_order_id=update.client_order_id,
                status=update.status.value,
            )
