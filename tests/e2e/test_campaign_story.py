"""The whole story through a real Temporal server and PostgreSQL."""

from decimal import Decimal

from sqlalchemy import select, text

from campaign_engine.db.schema import allocation_plans, audit_trail, campaigns, orders, positions
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import Stack, persisted_status, settled

D = Decimal


async def test_spring_sos_lps_ladder_completed_with_exact_numbers(stack: Stack) -> None:
    client = stack.client
    spring = await client.submit(signal(Pattern.SPRING))
    assert (spring.approved, spring.shares, spring.risk_amount) == (True, D(333), D("499.50"))
    campaign_id = spring.campaign_id
    assert campaign_id == "AAPL-2024-10-15"
    sos = await client.submit(signal(Pattern.SOS))
    lps = await client.submit(signal(Pattern.LPS))
    assert (sos.shares, lps.shares) == (D(666), D(400))
    state = await settled(stack, campaign_id, 6)  # 3 approvals + 3 fills
    assert state.status is CampaignStatus.MARKUP
    assert state.total_allocation == D("2.0985")

    for minute, price in enumerate(["150.00", "156.00", "159.00", "162.00"], start=1):
        await client.send_price(campaign_id, tick(price, minute))
    await persisted_status(stack, campaign_id, CampaignStatus.COMPLETED)

    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
        ).one()
        assert row.status == "COMPLETED"
        assert row.total_allocation == D("2.0985")
        sells = (
            await conn.execute(
                select(orders.c.purpose, orders.c.quantity, orders.c.expected_price)
                .where(orders.c.campaign_id == campaign_id, orders.c.side == "SELL")
                .order_by(orders.c.client_order_id)
            )
        ).all()
        by_position = (
            await conn.execute(
                select(
                    positions.c.pattern,
                    positions.c.shares,
                    positions.c.open_shares,
                    positions.c.realized_pnl,
                ).where(positions.c.campaign_id == campaign_id)
            )
        ).all()
        plans = (
            (await conn.execute(select(allocation_plans.c.shares).order_by(allocation_plans.c.seq)))
            .scalars()
            .all()
        )
        events = (
            (
                await conn.execute(
                    select(audit_trail.c.event_type)
                    .where(audit_trail.c.campaign_id == campaign_id)
                    .order_by(audit_trail.c.seq)
                )
            )
            .scalars()
            .all()
        )
        broker = (await conn.execute(text("select count(*) from broker_orders"))).scalar_one()
    ladder = {(p, q) for p, q, _ in sells}
    assert ladder == {
        ("TARGET_1", D(166)),
        ("TARGET_2", D(99)),
        ("TARGET_3", D(68)),
        ("TARGET_1", D(333)),
        ("TARGET_2", D(199)),
        ("TARGET_3", D(134)),
        ("TARGET_1", D(200)),
        ("TARGET_2", D(120)),
        ("TARGET_3", D(80)),
    }
    assert {p: (s, o) for p, s, o, _ in by_position} == {
        "SPRING": (D(333), D(0)),
        "SOS": (D(666), D(0)),
        "LPS": (D(400), D(0)),
    }
    spring_pnl = 166 * D("1.50") + 99 * D("7.50") + 68 * D("10.50")
    assert {p: r for p, _, _, r in by_position}["SPRING"] == spring_pnl
    assert plans == [D(333), D(666), D(400)]
    assert events[0] == "CampaignCreated"
    assert events[-1] == "CampaignCompleted"
    assert events.count("ExitExecuted") == 9
    assert broker == 12  # 3 entries + 9 exits, each placed once
