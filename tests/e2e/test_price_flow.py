"""A price flood through the publisher reaches a real campaign as a few bars, and the one
price that crosses its stop is not lost among them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from campaign_engine.db.schema import orders
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.price_feed.publisher import DatabaseDirectory
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import Stack, persisted_status

D = Decimal


async def test_a_flood_is_coalesced_and_its_stop_crossing_is_not_missed(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS))  # 1,333 shares, stop 148.75
    await persisted_status(stack, plan.campaign_id, CampaignStatus.MARKUP)  # filled: open
    updates = 3_000
    async with stack.client.publisher(
        DatabaseDirectory(stack.engine), interval=timedelta(milliseconds=200)
    ) as publisher:
        start = datetime.now(UTC)  # live prices: stamped after the campaign opened
        for i in range(updates):
            price = "148.70" if i == 1_777 else f"{150 + (i % 7) / 10:.2f}"
            as_of = start + timedelta(milliseconds=i + 1)
            await publisher.publish(tick(price, 0).model_copy(update={"as_of": as_of}))
    await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED)
    assert publisher.updates_received == updates
    assert 1 <= publisher.signals_sent <= updates // 20
    async with stack.engine.connect() as conn:
        sells = (
            await conn.execute(
                select(orders.c.purpose, orders.c.quantity, orders.c.expected_price).where(
                    orders.c.side == "SELL"
                )
            )
        ).all()
    # The crossing arrives inside a bar whose open is above the stop: it fills at the stop.
    assert [tuple(s) for s in sells] == [("STOP", D(1333), D("148.75"))]
