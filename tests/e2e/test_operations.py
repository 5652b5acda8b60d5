"""What an operator and the orchestrator see and steer of a running campaign: the four search
attributes and the UI summary, and the fire-and-forget ``invalidate`` signal."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributeKey

from campaign_engine.db.schema import orders
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import InvalidateRequest, workflow_id_for
from campaign_engine.testing.builders import signal, tick
from campaign_engine.workflows.details import (
    CAMPAIGN_OPEN_RISK_PCT,
    CAMPAIGN_PHASE,
    CAMPAIGN_STATUS,
    CAMPAIGN_SYMBOL,
)
from tests.support.harness import Stack, eventually, persisted_status

D = Decimal


async def _attributes_become(
    handle: WorkflowHandle[Any, Any], expected: dict[SearchAttributeKey[Any], Any]
) -> None:
    seen: dict[str, Any] = {}

    async def published() -> bool:
        attributes = (await handle.describe()).typed_search_attributes
        seen.update({key.name: attributes.get(key) for key in expected})
        return all(attributes.get(key) == value for key, value in expected.items())

    try:
        await eventually(published)
    except AssertionError:
        raise AssertionError(f"search attributes are {seen}") from None


async def test_operators_see_search_attributes_and_a_summary(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
    # 333 shares risking 1.50 each: 499.50 of 100,000.
    await _attributes_become(
        handle,
        {
            CAMPAIGN_SYMBOL: "AAPL",
            CAMPAIGN_STATUS: "ACTIVE",
            CAMPAIGN_PHASE: "ACCUMULATION",
            CAMPAIGN_OPEN_RISK_PCT: 0.4995,
        },
    )
    # What the Temporal UI shows as the workflow's current details, once the entry filled.
    opened = (
        "- **SPRING** OPEN: 333 shares @ 148.50, 333 open, stop 147.00, targets hit 0 of 3, "
        "realized +0.00"
    )

    async def shown() -> bool:
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        return opened in metadata.current_details

    await eventually(shown)
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    details = metadata.current_details
    assert "**AAPL-2024-10-15** · **ACTIVE**" in details
    assert "Range creek 145.00 · ice 150.00 · jump 156.00" in details
    # The one-line summary the UI shows for the workflow, set when the campaign started.
    description = await handle.describe()
    assert await description.static_summary() == (
        "AAPL 1h campaign AAPL-2024-10-15 · creek 145.00 · ice 150.00 · jump 156.00"
    )

    # An SOS entry moves the campaign to MARKUP: status, phase and risk follow.
    sos = await stack.client.submit(signal(Pattern.SOS))
    risk_pct = (plan.risk_amount + sos.risk_amount) / D(1000)  # percent of 100,000
    assert risk_pct == D("1.4985")  # 499.50 + 666 shares risking 1.50
    await _attributes_become(
        handle,
        {CAMPAIGN_STATUS: "MARKUP", CAMPAIGN_PHASE: "MARKUP", CAMPAIGN_OPEN_RISK_PCT: 1.4985},
    )
    # Below the Spring's stop the range is broken: every share exits, no risk is left.
    await stack.client.send_price(plan.campaign_id, tick("146.00", 5))
    await persisted_status(stack, plan.campaign_id, CampaignStatus.INVALIDATED)
    await _attributes_become(handle, {CAMPAIGN_STATUS: "INVALIDATED", CAMPAIGN_OPEN_RISK_PCT: 0.0})


async def test_the_invalidate_signal_exits_at_the_last_price(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    campaign_id = plan.campaign_id
    await stack.client.send_price(campaign_id, tick("149.20", 1))
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))
    await handle.signal("invalidate", InvalidateRequest(reason="orchestrator: range broken"))
    await persisted_status(stack, campaign_id, CampaignStatus.INVALIDATED)
    async with stack.engine.connect() as conn:
        sells = (
            await conn.execute(
                select(orders.c.purpose, orders.c.quantity, orders.c.expected_price).where(
                    orders.c.campaign_id == campaign_id, orders.c.side == "SELL"
                )
            )
        ).all()
    assert [tuple(s) for s in sells] == [("INVALIDATION", D(333), D("149.20"))]
    # Its exit filled, the campaign is over and its run ends with it.
    final = await stack.client.temporal.get_workflow_handle(
        handle.id, result_type=CampaignState
    ).result()
    assert final.status is CampaignStatus.INVALIDATED
    assert final.invalidation_reason == "orchestrator: range broken"
    assert final.closed_at is not None
