"""The holdings reconciler's signal through a real worker, Temporal and PostgreSQL: a campaign
books a ``holding_report`` only against the revision it was computed at."""

from decimal import Decimal

from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from campaign_engine.db.schema import campaign_snapshots
from campaign_engine.domain.vocabulary import CampaignStatus, OrderPurpose, Pattern
from campaign_engine.services.holdings_reconciler import CampaignHoldingReports
from campaign_engine.temporal.messages import HoldingReport, workflow_id_for
from campaign_engine.testing.builders import signal
from tests.support.harness import Stack, eventually, persisted_status, settled

D = Decimal


async def revision_of(stack: Stack, campaign_id: str) -> int:
    async with stack.engine.connect() as conn:
        revision = await conn.scalar(
            select(campaign_snapshots.c.revision).where(
                campaign_snapshots.c.campaign_id == campaign_id
            )
        )
    assert revision is not None
    return int(revision)


async def taken(handle: WorkflowHandle[object, object], signals: int) -> None:
    """Until the run has completed a workflow task after its ``signals``-th signal."""

    async def done() -> bool:
        seen, completed = 0, False
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                seen, completed = seen + 1, False
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                completed = True
        return seen >= signals and completed

    await eventually(done)


async def test_a_report_at_another_revision_is_ignored_and_one_at_the_run_s_is_booked(
    stack: Stack, temporal: WorkflowEnvironment
) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    campaign_id = plan.campaign_id
    await settled(stack, campaign_id, 2)  # the entry filled at once: 333 shares held
    revision = await revision_of(stack, campaign_id)
    reports = CampaignHoldingReports(temporal.client)
    handle = temporal.client.get_workflow_handle(workflow_id_for(campaign_id))

    def report(at: int) -> HoldingReport:
        return HoldingReport(campaign_id=campaign_id, symbol="AAPL", available=D(0), revision=at)

    assert await reports.deliver(report(revision - 1))  # computed before the last change
    await taken(handle, 1)
    state = await stack.client.status(campaign_id)
    assert state is not None and state.status is CampaignStatus.ACTIVE
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == D(333)
    assert await revision_of(stack, campaign_id) == revision

    assert await reports.deliver(report(revision))
    await persisted_status(stack, campaign_id, CampaignStatus.COMPLETED)
    state = await stack.client.status(campaign_id)
    assert state is not None
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == 0
    assert [e.purpose for e in spring.exits] == [OrderPurpose.BY_HAND]
    # The run has ended: a report now finds no one.
    await eventually(lambda: _ended(handle))
    assert not await reports.deliver(report(revision + 2))


async def _ended(handle: WorkflowHandle[object, object]) -> bool:
    return (await handle.describe()).close_time is not None
