"""The six activities a campaign run calls, under their real names and with their real
request and response models (``temporal/messages.py``), carried out on the in-memory ledger
and broker book: the edge of the workflow is faked, the workflow itself is not.

A change the ledger refuses fails as the real ``carry_out`` fails it (a non-retryable
``ChangeRefused``), so the workflow's quarantine runs as it does in production.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio import activity

from campaign_engine.activities.failures import refused
from campaign_engine.domain.campaign import prepare_entry
from campaign_engine.domain.entry import AdmissionRequest
from campaign_engine.temporal import messages
from tests.workflow.broker_book import BrokerBook
from tests.workflow.ledger import Ledger, SaveRefused


class FakeActivities:
    def __init__(self, ledger: Ledger, broker: BrokerBook) -> None:
        self.ledger = ledger
        self.broker = broker
        self.calls: list[str] = []
        self.portfolio_open = asyncio.Event()
        """Cleared, a reservation waits until it is set again: an entry held at the portfolio
        (as behind another campaign's lock), for a test to see what arrives meanwhile."""
        self.portfolio_open.set()

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.load_campaign,
            self.load_and_reserve,
            self.reserve_risk,
            self.carry_out,
            self.get_order,
            self.broker_holding,
        ]

    @activity.defn(name=messages.LOAD_CAMPAIGN)
    async def load_campaign(self, request: messages.LoadCampaignRequest) -> messages.LoadedCampaign:
        self.calls.append(messages.LOAD_CAMPAIGN)
        state, revision = self.ledger.load(request.campaign_id)
        return messages.LoadedCampaign(state=state, revision=revision)

    @activity.defn(name=messages.RESERVE_RISK)
    async def reserve_risk(self, request: AdmissionRequest) -> messages.ReserveRiskResult:
        self.calls.append(messages.RESERVE_RISK)
        await self.portfolio_open.wait()
        return messages.ReserveRiskResult(admission=self.ledger.reserve(request))

    @activity.defn(name=messages.LOAD_AND_RESERVE)
    async def load_and_reserve(
        self, request: messages.LoadAndReserveRequest
    ) -> messages.LoadedAndReserved:
        self.calls.append(messages.LOAD_AND_RESERVE)
        state, revision = self.ledger.load(request.campaign_id)
        asked = prepare_entry(state, request.signal, request.policy).admission_request
        if asked is not None:
            await self.portfolio_open.wait()
        admission = self.ledger.reserve(asked) if asked is not None else None
        return messages.LoadedAndReserved(state=state, revision=revision, admission=admission)

    @activity.defn(name=messages.CARRY_OUT)
    async def carry_out(self, request: messages.CarryOutRequest) -> messages.CarriedOut:
        self.calls.append(messages.CARRY_OUT)
        try:
            self.ledger.save(request)
        except SaveRefused as error:
            raise refused(error, f"revision {request.revision} cannot be saved") from error
        cancelled = []
        for client_order_id in request.cancellations:
            if client_order_id in self.broker.answers:  # one that never reached it: nothing
                cancelled.append(self.broker.cancel(client_order_id))
        placed = [self.broker.submit(order) for order in request.orders]
        return messages.CarriedOut(orders=tuple(placed), cancelled=tuple(cancelled))

    @activity.defn(name=messages.GET_ORDER)
    async def get_order(self, request: messages.OrderRequest) -> messages.BrokerOrder:
        self.calls.append(messages.GET_ORDER)
        return self.broker.get_order(request.client_order_id)

    @activity.defn(name=messages.BROKER_HOLDING)
    async def broker_holding(self, request: messages.HoldingRequest) -> messages.Holding:
        self.calls.append(messages.BROKER_HOLDING)
        return messages.Holding(available=self.broker.position(request.symbol))
