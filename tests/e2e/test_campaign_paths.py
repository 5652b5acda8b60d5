"""The other ways a campaign goes, through a real Temporal server and PostgreSQL."""

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

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
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import bar, signal, trading_range
from tests.support.harness import Stack, persisted_status

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
