"""The other ways a campaign goes, through a real Temporal server and PostgreSQL."""

import asyncio
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from campaign_engine.client.campaign_client import CampaignRefused
from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaigns,
    orders,
    positions,
)
from campaign_engine.domain.errors import Refusal
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import bar, signal, tick, trading_range
from tests.support.harness import Stack, eventually, persisted_status

D = Decimal


async def _sells(stack: Stack, campaign_id: str) -> list[tuple[str, Decimal, Decimal]]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.purpose, orders.c.quantity, orders.c.expected_price)
            .where(orders.c.campaign_id == campaign_id, orders.c.side == "SELL")
            .order_by(orders.c.client_order_id)
        )
        return [(r.purpose, r.quantity, r.expected_price) for r in rows]


async def test_skipped_spring_sizes_the_sos_up(stack: Stack) -> None:
    sos = await stack.client.submit(signal(Pattern.SOS))
    assert (sos.approved, sos.weight, sos.shares, sos.is_rebalanced) == (
        True,
        D("0.70"),
        D(1333),
        True,
    )
    lps = await stack.client.submit(signal(Pattern.LPS))
    assert (lps.weight, lps.shares) == (D("0.30"), D(400))
    await stack.client.send_price(sos.campaign_id, bar("151", "162.5", "150.9", "162", 1))
    await persisted_status(stack, sos.campaign_id, CampaignStatus.COMPLETED)
    sells = await _sells(stack, sos.campaign_id)
    assert sorted(q for p, q, _ in sells if p.startswith("TARGET")) == sorted(
        [D(666), D(399), D(268), D(200), D(120), D(80)]
    )


async def test_invalidation_by_the_spring_low_exits_everything(stack: Stack) -> None:
    rng = trading_range(spring_low="146.80")
    spring = await stack.client.submit(signal(Pattern.SPRING, rng=rng))
    await stack.client.submit(signal(Pattern.SOS, rng=rng))
    await stack.client.send_price(spring.campaign_id, bar("147.5", "147.6", "146.5", "146.6", 1))
    await persisted_status(stack, spring.campaign_id, CampaignStatus.INVALIDATED)
    assert await _sells(stack, spring.campaign_id) == [
        ("INVALIDATION", D(666), D("146.80")),
        ("INVALIDATION", D(333), D("146.80")),
    ]
    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(
                select(campaigns).where(campaigns.c.campaign_id == spring.campaign_id)
            )
        ).one()
        assert "146.80" in row.invalidation_reason
        assert (row.open_risk, row.reserved_risk) == (0, 0)
        open_positions = (
            await conn.execute(
                select(func.count()).where(
                    positions.c.campaign_id == spring.campaign_id, positions.c.status != "CLOSED"
                )
            )
        ).scalar_one()
        assert open_positions == 0
        exposure = (await conn.execute(select(campaign_exposure))).one()
        assert (exposure.open_risk, exposure.reserved_risk) == (0, 0)
    with pytest.raises(CampaignRefused) as refused:
        await stack.client.invalidate(spring.campaign_id, "again")
    assert refused.value.kind is Refusal.CAMPAIGN_CLOSED


async def test_operator_invalidation_and_status_change(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    await stack.client.send_price(plan.campaign_id, tick("148.90", 1))
    await eventually(lambda: _version_at_least(stack, plan.campaign_id, 2))
    state = await stack.client.status(plan.campaign_id)
    assert state is not None
    with pytest.raises(CampaignRefused) as conflict:
        await stack.client.change_status(plan.campaign_id, CampaignStatus.MARKUP, state.version - 1)
    assert conflict.value.kind is Refusal.VERSION_CONFLICT
    marked = await stack.client.change_status(
        plan.campaign_id, CampaignStatus.MARKUP, state.version
    )
    assert (marked.status, marked.version) == (CampaignStatus.MARKUP, state.version + 1)
    ended = await stack.client.invalidate(plan.campaign_id, "operator: earnings tomorrow")
    assert ended.status is CampaignStatus.INVALIDATED
    await persisted_status(stack, plan.campaign_id, CampaignStatus.INVALIDATED)
    assert await _sells(stack, plan.campaign_id) == [("INVALIDATION", D(333), D("148.90"))]


async def _version_at_least(stack: Stack, campaign_id: str, version: int) -> bool:
    state = await stack.client.status(campaign_id)
    return state is not None and state.version >= version


async def test_stop_out_completes_with_a_loss(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS))
    await stack.client.send_price(plan.campaign_id, bar("149.00", "149.50", "148.70", "148.90", 1))
    await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED)
    assert await _sells(stack, plan.campaign_id) == [("STOP", D(1333), D("148.75"))]
    async with stack.engine.connect() as conn:
        realized = (
            await conn.execute(
                select(campaigns.c.realized_pnl).where(campaigns.c.campaign_id == plan.campaign_id)
            )
        ).scalar_one()
    assert realized == D(1333) * D("-1.50")


async def test_rejected_first_signal_leaves_no_campaign_but_its_plan(stack: Stack) -> None:
    weak = signal(Pattern.SPRING, confidence=50)
    plan = await stack.client.submit(weak)
    assert not plan.approved
    assert plan.rejection_code is not None and plan.rejection_code.value == "LOW_CONFIDENCE"
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
    # A run that holds no campaign ends once its refusal is persisted, not after an idle wait.
    assert await asyncio.wait_for(handle.result(), timeout=10) is not None
    async with stack.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(campaigns))).scalar_one() == 0
        stored = (await conn.execute(select(allocation_plans))).one()
        assert (stored.signal_id, stored.approved) == (weak.signal_id, False)
        kinds = (await conn.execute(select(audit_trail.c.event_type))).scalars().all()
        assert kinds == ["AllocationRejected"]
    # The same signal id after the run ended: the first decision, not a new one (Temporal
    # answers the update by its id, which is the signal's; or a new run finds the refusal in
    # the database), and nothing decided or recorded twice.
    again = await stack.client.submit(weak)
    assert again == plan
    latest = stack.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
    await asyncio.wait_for(latest.result(), timeout=10)
    async with stack.engine.connect() as conn:
        assert (await conn.execute(select(allocation_plans))).one().signal_id == weak.signal_id
        kinds = (await conn.execute(select(audit_trail.c.event_type))).scalars().all()
        assert kinds == ["AllocationRejected"]
    listed = [
        w
        async for w in stack.client.temporal.list_workflows(
            f"CampaignStatus = 'ACTIVE' AND CampaignSymbol = 'AAPL' "
            f"AND TaskQueue = '{stack.settings.task_queue}'"
        )
    ]
    assert listed == []


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


async def test_the_update_validator_refuses_malformed_and_misdirected_signals(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
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
    state = await stack.client.status(plan.campaign_id)
    assert state is not None and len(state.plans) == 1


async def test_same_signal_id_after_continue_as_new(stack: Stack) -> None:
    client = stack.client
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


async def test_a_price_for_another_symbol_is_ignored(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS))
    wrong = PriceUpdate.model_validate(
        {"symbol": "MSFT", "as_of": "2024-10-15T15:00:00Z", "price": "1"}
    )
    await stack.client.send_price(plan.campaign_id, wrong)
    await stack.client.send_price(plan.campaign_id, tick("151.00", 60))

    async def marked() -> bool:
        state = await stack.client.status(plan.campaign_id)
        return state is not None and state.last_price == D("151.00")

    await eventually(marked)
    state = await stack.client.status(plan.campaign_id)
    assert state is not None and state.status is CampaignStatus.MARKUP
