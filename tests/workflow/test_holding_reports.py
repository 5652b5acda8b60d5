"""The holdings reconciler's signal on the real workflow: a campaign books a ``holding_report``
only against the revision it was computed at."""

from decimal import Decimal

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from campaign_engine.domain.vocabulary import CampaignStatus, OrderPurpose, Pattern
from campaign_engine.services.holdings_reconciler import CampaignHoldingReports
from campaign_engine.temporal.messages import HoldingReport, workflow_id_for
from campaign_engine.testing.builders import signal
from tests.support.harness import eventually
from tests.workflow.conftest import Campaigns

D = Decimal


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
    campaigns: Campaigns, temporal: WorkflowEnvironment
) -> None:
    plan = await campaigns.client.submit(signal(Pattern.SPRING))
    campaign_id = plan.campaign_id
    await campaigns.saved(campaign_id, 2)  # the entry filled at once: 333 shares held
    revision = campaigns.ledger.revision(campaign_id)
    reports = CampaignHoldingReports(temporal.client)
    handle = temporal.client.get_workflow_handle(workflow_id_for(campaign_id))

    def report(at: int) -> HoldingReport:
        return HoldingReport(campaign_id=campaign_id, symbol="AAPL", available=D(0), revision=at)

    assert await reports.deliver(report(revision - 1))  # computed before the last change
    await taken(handle, 1)
    state = await campaigns.client.status(campaign_id)
    assert state is not None and state.status is CampaignStatus.ACTIVE
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == D(333)
    assert campaigns.ledger.revision(campaign_id) == revision

    assert await reports.deliver(report(revision))
    await campaigns.saved_status(campaign_id, CampaignStatus.COMPLETED)
    state = await campaigns.client.status(campaign_id)
    assert state is not None
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == 0
    assert [e.purpose for e in spring.exits] == [OrderPurpose.BY_HAND]
    # The run has ended: a report now finds no one.
    await eventually(lambda: _ended(handle))
    assert not await reports.deliver(report(revision + 2))


async def _ended(handle: WorkflowHandle[object, object]) -> bool:
    return (await handle.describe()).close_time is not None
