"""The workflow tier: the real ``CampaignWorkflow``, in the real sandbox with the real data
converter, on the session's Temporal dev server, a worker and task queue per test, its six
activities faked in memory (``fake_activities.py``) over a ledger and a broker book the test
can read and steer. No PostgreSQL: what is tested here is the workflow's own logic.

Updates are tested on the dev server, not the time-skipping test server: that server does not
skip time while a client waits on an update's result.
"""

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.runtime.observability import CorrelationInterceptor
from campaign_engine.worker import workflow_runner
from campaign_engine.workflows.campaign import CampaignWorkflow
from tests.e2e.conftest import record_histories
from tests.support.harness import end_running_campaigns, eventually
from tests.workflow.broker_book import BrokerBook
from tests.workflow.fake_activities import FakeActivities
from tests.workflow.ledger import Ledger


@dataclass
class Campaigns:
    """A test's campaigns: the client that steers them, and the fakes at their edge."""

    client: CampaignClient
    ledger: Ledger
    broker: BrokerBook
    activities: FakeActivities

    async def saved(self, campaign_id: str, version: int) -> CampaignState:
        """Until the campaign's persisted state has reached ``version``; its state then, as
        the workflow answers for it."""

        async def reached() -> bool:
            state, _ = self.ledger.load(campaign_id)
            return state is not None and state.version >= version

        await eventually(reached)
        state = await self.client.status(campaign_id)
        assert state is not None
        return state

    async def saved_status(
        self, campaign_id: str, status: CampaignStatus, timeout: float = 20.0
    ) -> None:
        """Until the persisted campaign is in ``status`` (a final one with every position
        closed)."""

        async def reached() -> bool:
            state, _ = self.ledger.load(campaign_id)
            if state is None or state.status is not status:
                return False
            return not status.is_terminal or state.closed_at is not None

        await eventually(reached, timeout)


@pytest.fixture
def policy() -> Policy:
    """The policy the test's campaigns run with (a test module may override this)."""
    return Policy()


@pytest.fixture
async def campaigns(
    temporal: WorkflowEnvironment, policy: Policy, request: pytest.FixtureRequest
) -> AsyncIterator[Campaigns]:
    task_queue = f"workflow-{uuid.uuid4().hex[:8]}"
    ledger = Ledger(starting_equity=policy.starting_equity)
    broker = BrokerBook()
    activities = FakeActivities(ledger, broker)
    worker = Worker(
        temporal.client,
        task_queue=task_queue,
        workflows=[CampaignWorkflow],
        activities=activities.all(),
        interceptors=[CorrelationInterceptor()],
        workflow_runner=workflow_runner(),
    )
    client = CampaignClient(temporal.client, policy=policy, task_queue=task_queue)
    async with worker:
        yield Campaigns(client, ledger, broker, activities)
        # The histories are the real workflow's (only its activities' answers are faked), so
        # they are recorded for the replay tier as the end-to-end tests' are.
        if os.environ.get("RECORD_HISTORIES"):
            await record_histories(temporal, task_queue, request.node.name)
        await end_running_campaigns(temporal.client, task_queue)
