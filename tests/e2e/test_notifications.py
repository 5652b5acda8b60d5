"""Every event reaches the configured channels through the worker's outbox relay; a failing
channel never blocks trading."""

import pytest
from sqlalchemy import func, select

from campaign_engine.db.schema import audit_trail, outbox
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.services.notifications import Channel, WebhookChannel, summarize
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import Stack, eventually, persisted_status


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.events: list[CampaignEvent] = []

    async def send(self, event: CampaignEvent) -> None:
        self.events.append(event)


class Broken:
    name = "broken"

    async def send(self, event: CampaignEvent) -> None:
        raise ConnectionError("chat service is down")


RECORDING = Recording()


@pytest.fixture
def channels() -> list[Channel]:
    RECORDING.events.clear()
    # A webhook nobody listens on, and a channel that always fails, before a working one.
    return [WebhookChannel("http://127.0.0.1:9/hook", timeout_seconds=1), Broken(), RECORDING]


async def test_failing_channels_do_not_hold_up_the_campaign(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    await stack.client.send_price(plan.campaign_id, tick("159.00", 1))
    await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED)
    async with stack.engine.connect() as conn:
        audited = (
            (await conn.execute(select(audit_trail.c.event_id).order_by(audit_trail.c.seq)))
            .scalars()
            .all()
        )

    async def all_delivered() -> bool:
        return {e.event_id for e in RECORDING.events} == set(audited)

    await eventually(all_delivered)

    async def outbox_emptied() -> bool:
        # The relay deletes what it sent when its batch commits, just after the sends.
        async with stack.engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(outbox)) == 0

    await eventually(outbox_emptied)
    completed = next(e for e in RECORDING.events if e.type.value == "CampaignCompleted")
    assert "realized_pnl=3496.50" in summarize(completed)
