"""Real parts for end-to-end tests: the session's Temporal dev server (``temporal``, from
``tests/support/temporal_server.py``) and PostgreSQL (the embedded PostgreSQL, or DATABASE_URL
when it is set). Each test gets a database of its own and a worker on a task queue of its own,
so tests cannot see each other's campaigns."""

import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from campaign_engine.domain.policy import Policy
from campaign_engine.runtime.settings import Settings
from campaign_engine.services.notifications import Channel
from tests.e2e.api_fixtures import api_client
from tests.support.harness import Stack, running_stack

_HERE = Path(__file__).resolve().parent


HISTORIES = Path(__file__).resolve().parent.parent / "replay" / "histories"


async def record_histories(temporal: WorkflowEnvironment, task_queue: str, test: str) -> None:
    """Save the histories a test produced, to replay in every later CI run
    (RECORD_HISTORIES=<label> python3 run.py test -m e2e, the label naming the workflow
    version, so earlier versions' histories stay). A change that would break running
    campaigns fails then."""
    label = os.environ.get("RECORD_HISTORIES", "")
    if label and label != "1":
        test = f"{label}_{test}"
    HISTORIES.mkdir(exist_ok=True)
    executions = [e async for e in temporal.client.list_workflows(f"TaskQueue = '{task_queue}'")]
    for n, execution in enumerate(executions[:3]):  # a few of each test's runs are plenty
        handle = temporal.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        (HISTORIES / f"{test}-{n}.json").write_text(history.to_json())


@pytest.fixture
def channels() -> list[Channel]:
    """Notification channels of the test's worker (a test module may override this)."""
    return []


@pytest.fixture
def configured_policy() -> Policy:
    """The policy of the test's stack, as a policy file would set it (a test module may
    override this; ``account_equity`` gives it its starting equity)."""
    return Policy()


@pytest.fixture
async def stack(
    temporal: WorkflowEnvironment,
    database_url: str,
    channels: list[Channel],
    configured_policy: Policy,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    settings = Settings(
        database_url=database_url,
        task_queue=f"campaigns-{uuid.uuid4().hex[:8]}",
        metrics_port=None,
        account_equity=Decimal("100000"),
        configured_policy=configured_policy,
    )
    async with running_stack(temporal.client, database_url, settings, channels) as running:
        yield running
        if os.environ.get("RECORD_HISTORIES"):
            await record_histories(temporal, settings.task_queue, request.node.name)


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """The REST API served over the test's stack, and a client talking to it."""
    async with api_client(stack.settings, stack.client, stack.engine) as http:
        yield http
