"""Operator commands, the update validator and what a campaign ignores, on the real workflow
with its activities in memory."""

import asyncio
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from campaign_engine.client.campaign_client import CampaignRefused
from campaign_engine.domain.errors import Refusal
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import signal, tick, trading_range
from tests.support.harness import eventually
from tests.workflow.conftest import Campaigns

D = Decimal


async def test_operator_invalidation_and_status_change(campaigns: Campaigns) -> None:
    plan = await campaigns.client.submit(signal(Pattern.SPRING))
    await campaigns.client.send_price(plan.campaign_id, tick("148.90", 1))
    await eventually(lambda: _version_at_least(campaigns, plan.campaign_id, 2))
    state = await campaigns.client.status(plan.campaign_id)
    assert state is not None
    with pytest.raises(CampaignRefused) as conflict:
        await campaigns.client.change_status(
            plan.campaign_id, CampaignStatus.MARKUP, state.version - 1
        )
    assert conflict.value.kind is Refusal.VERSION_CONFLICT
    marked = await campaigns.client.change_status(
        plan.campaign_id, CampaignStatus.MARKUP, state.version
    )
    assert (marked.status, marked.version) == (CampaignStatus.MARKUP, state.version + 1)
    ended = await campaigns.client.invalidate(plan.campaign_id, "operator: earnings tomorrow")
    assert ended.status is CampaignStatus.INVALIDATED
    await campaigns.saved_status(plan.campaign_id, CampaignStatus.INVALIDATED)
    assert campaigns.broker.sells(plan.campaign_id) == [("INVALIDATION", D(333), D("148.90"))]


async def _version_at_least(campaigns: Campaigns, campaign_id: str, version: int) -> bool:
    state = await campaigns.client.status(campaign_id)
    return state is not None and state.version >= version


async def _settled_history_length(handle: WorkflowHandle[Any, Any]) -> int:
    """The history's length once the campaign has carried out everything it started."""
    length = -1
    while True:
        now = len([e async for e in handle.fetch_history_events()])
        if now == length:
            return now
        length = now
        await asyncio.sleep(1.0)


def _failure_chain(error: BaseException) -> str:
    """Every message down a Temporal failure's chain of causes."""
    messages = []
    current: BaseException | None = error
    while current is not None:
        messages.append(str(current))
        current = getattr(current, "cause", None) or current.__cause__
    return " <- ".join(messages)


async def test_the_update_validator_refuses_malformed_and_misdirected_signals(
    campaigns: Campaigns,
) -> None:
    plan = await campaigns.client.submit(signal(Pattern.SPRING))
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
    before = await _settled_history_length(handle)
    malformed = signal(Pattern.SOS).model_dump(mode="json") | {"stop_loss": "151.00"}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("submit_signal", malformed)
    assert "stop_loss 151.00 must be below entry_price" in _failure_chain(refused.value)
    other = signal(Pattern.SOS, rng=trading_range(symbol="MSFT", range_id=uuid4()))
    with pytest.raises(WorkflowUpdateFailedError) as misdirected:
        await handle.execute_update("submit_signal", other)
    assert "MSFT-" in str(misdirected.value.cause)
    after = len([e async for e in handle.fetch_history_events()])
    assert after == before  # refused before anything reached the history
    state = await campaigns.client.status(plan.campaign_id)
    assert state is not None and len(state.plans) == 1


async def test_same_signal_id_after_continue_as_new(campaigns: Campaigns) -> None:
    client = campaigns.client
    client.continue_as_new_after_events = 50
    entry = signal(Pattern.SPRING)
    first = await client.submit(entry)
    handle = client.temporal.get_workflow_handle(workflow_id_for(first.campaign_id))
    first_run = (await handle.describe()).run_id
    for minute in range(1, 40):  # quiet prices: each one a signal in the history
        await client.send_price(
            first.campaign_id, tick("148.60" if minute % 2 else "148.70", minute)
        )

    async def continued() -> bool:
        return (await handle.describe()).run_id != first_run

    await eventually(continued)
    assert await client.submit(entry) == first

    async def priced() -> bool:  # every quiet price taken, across the continue-as-new
        state = await client.status(first.campaign_id)
        return state is not None and state.last_price == D("148.60")

    await eventually(priced)
    state = await client.status(first.campaign_id)
    assert state is not None and state.exists and len(state.positions) == 1


async def test_a_price_for_another_symbol_is_ignored(campaigns: Campaigns) -> None:
    plan = await campaigns.client.submit(signal(Pattern.SOS))
    wrong = PriceUpdate.model_validate(
        {"symbol": "MSFT", "as_of": "2024-10-15T15:00:00Z", "price": "1"}
    )
    await campaigns.client.send_price(plan.campaign_id, wrong)
    await campaigns.client.send_price(plan.campaign_id, tick("151.00", 60))

    async def marked() -> bool:
        state = await campaigns.client.status(plan.campaign_id)
        return state is not None and state.last_price == D("151.00")

    await eventually(marked)
    state = await campaigns.client.status(plan.campaign_id)
    assert state is not None and state.status is CampaignStatus.MARKUP
