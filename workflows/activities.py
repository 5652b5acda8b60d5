"""The activities a campaign run calls, with the options each is called with.

Persistence and orders are idempotent, so they are retried until they succeed: a change is
never lost, whatever the database or broker does meanwhile. A local activity runs inside the
workflow task that asks for it (no activity task, no further workflow task); a regular one
lets the task, and with it an update's answer, complete first.
"""

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.entry import AdmissionRequest
    from campaign_engine.temporal.messages import (
        CARRY_OUT,
        GET_ORDER,
        LOAD_AND_RESERVE,
        LOAD_CAMPAIGN,
        RESERVE_RISK,
        BrokerOrder,
        CarriedOut,
        CarryOutRequest,
        LoadAndReserveRequest,
        LoadCampaignRequest,
        LoadedAndReserved,
        LoadedCampaign,
        OrderRequest,
        ReserveRiskResult,
    )

FOREVER = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
IO_TIMEOUT = timedelta(seconds=10)  # also how soon work of a crashed worker is retried
LOCAL_TIMEOUT = timedelta(seconds=10)

Result = TypeVar("Result")


async def _local(name: str, request: object, result_type: type[Result]) -> Result:
    result: Result = await workflow.execute_local_activity(
        name,
        request,
        result_type=result_type,
        start_to_close_timeout=LOCAL_TIMEOUT,
        retry_policy=FOREVER,
    )
    return result


async def _regular(name: str, request: object, result_type: type[Result]) -> Result:
    result: Result = await workflow.execute_activity(
        name,
        request,
        result_type=result_type,
        start_to_close_timeout=IO_TIMEOUT,
        retry_policy=FOREVER,
    )
    return result


async def load_campaign(request: LoadCampaignRequest) -> LoadedCampaign:
    return await _local(LOAD_CAMPAIGN, request, LoadedCampaign)


async def load_and_reserve(request: LoadAndReserveRequest) -> LoadedAndReserved:
    return await _local(LOAD_AND_RESERVE, request, LoadedAndReserved)


async def reserve_risk(request: AdmissionRequest) -> ReserveRiskResult:
    return await _local(RESERVE_RISK, request, ReserveRiskResult)


async def carry_out(request: CarryOutRequest, *, answering: bool) -> CarriedOut:
    """A change an update answered for runs as a regular activity, scheduled with the answer;
    any other change (fills, exits on prices) as a local activity inside the task that made
    it, so a price that crosses a stop costs one workflow task, not several."""
    if answering:
        return await _regular(CARRY_OUT, request, CarriedOut)
    return await _local(CARRY_OUT, request, CarriedOut)


async def get_order(client_order_id: str) -> BrokerOrder:
    return await _regular(GET_ORDER, OrderRequest(client_order_id=client_order_id), BrokerOrder)
