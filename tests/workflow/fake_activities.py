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
from campaign_engine.temporal.messages import (
    BROKER_HOLDING,
    CARRY_OUT,
    GET_ORDER,
    LOAD_AND_RESERVE,
    LOAD_CAMPAIGN,
    RESERVE_RISK,
    BrokerOrder,
    CarriedOut,
    CarryOutRequest,
    Holding,
    HoldingRequest,
    LoadAndReserveRequest,
    LoadCampaignRequest,
    LoadedAndReserved,
    LoadedCampaign,
    OrderRequest,
    ReserveRiskResult,
)
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

    @activity.defn(name=LOAD_CAMPAIGN)
    async def load_campaign(self, request: LoadCampaignRequest) -> LoadedCampaign:
        self.calls.append(LOAD_CAMPAIGN)
        state, revision = self.ledger.load(request.campaign_id)
        return LoadedCampaign(state=state, revision=revision)

    @activity.defn(name=RESERVE_RISK)
    async def reserve_risk(self, request: AdmissionRequest) -> ReserveRiskResult:
        self.calls.append(RESERVE_RISK)
        await self.portfolio_open.wait()
        return ReserveRiskResult(admission=self.ledger.reserve(request))

    @activity.defn(name=LOAD_AND_RESERVE)
    async def load_and_reserve(self, request: LoadAndReserveRequest) -> LoadedAndReserved:
        self.calls.append(LOAD_AND_RESERVE)
        state, revision = self.ledger.load(request.campaign_id)
        asked = prepare_entry(state, request.signal, request.policy).admission_request
        if asked is not None:
            await self.portfolio_open.wait()
        admission = self.ledger.reserve(asked) if asked is not None else None
        return LoadedAndReserved(state=state, revision=revision, admission=admission)

    @activity.defn(name=CARRY_OUT)
    async def carry_out(self, request: CarryOutRequest) -> CarriedOut:
        self.calls.append(CARRY_OUT)
        try:
            self.ledger.save(request)
        except SaveRefused as error:
            raise refused(error, f"revision {request.revision} cannot be saved") from error
        cancelled = []
        for client_order_id in request.cancellations:
            if client_order_id in self.broker.answers:  # one that never reached it: nothing
                cancelled.append(self.broker.cancel(client_order_id))
        placed = [self.broker.submit(order) for order in request.orders]
        return CarriedOut(orders=tuple(placed), cancelled=tuple(cancelled))

    @activity.defn(name=GET_ORDER)
    async def get_order(self, request: OrderRequest) -> BrokerOrder:
        self.calls.append(GET_ORDER)
        return self.broker.get_order(request.client_order_id)

    @activity.defn(name=BROKER_HOLDING)
    async def broker_holding(self, request: HoldingRequest) -> Holding:
        self.calls.append(BROKER_HOLDING)
        return Holding(available=self.broker.position(request.symbol))
