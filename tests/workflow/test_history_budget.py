"""What a campaign costs Temporal: the whole Spring -> SOS -> LPS -> ladder story stays a short
history, with one regular activity per entry decision and every other effect carried out
inside the workflow task that caused it. (A run's history is capped at 51,200 events and
continues as new long before that; every event is also server work.)"""

from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import signal, tick
from tests.workflow.conftest import Campaigns


async def test_the_whole_story_in_a_short_history(
    campaigns: Campaigns, temporal: WorkflowEnvironment
) -> None:
    client = campaigns.client
    for pattern in (Pattern.SPRING, Pattern.SOS, Pattern.LPS):
        plan = await client.submit(signal(pattern))
    campaign_id = plan.campaign_id
    await campaigns.saved(campaign_id, 6)
    for minute, price in enumerate(["150.00", "156.00", "159.00", "162.00"], start=1):
        await client.send_price(campaign_id, tick(price, minute))
    await campaigns.saved_status(campaign_id, CampaignStatus.COMPLETED)
    handle = temporal.client.get_workflow_handle(workflow_id_for(campaign_id))
    await handle.result()
    history = await handle.fetch_history()

    kinds = Counter(EventType.Name(e.event_type) for e in history.events)
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    # One carry-out per decision an update answered for; fills and the four prices' exits
    # (nine sells and their fills) ran as local activities in their own workflow tasks.
    assert activities == ["carry_out"] * 3
    # Measured: 8 workflow tasks, 5 upserts, 68 events (one activity per effect took 52, 17
    # and 327); the slack is for prices that arrive while a task is running.
    assert kinds["EVENT_TYPE_WORKFLOW_TASK_COMPLETED"] <= 10, kinds
    # Search attributes change with status, phase and risk, not with every change.
    assert kinds["EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"] <= 6, kinds
    assert len(history.events) <= 80, kinds
    # Every order filled as it was placed (as at the paper broker): nothing ever waited for a fill,
    # so no broker poll's timer was started, not even while an order was being placed.
    assert kinds["EVENT_TYPE_TIMER_STARTED"] == 0, kinds
