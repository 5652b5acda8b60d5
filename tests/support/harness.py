"""Helpers for end-to-end tests: the running stack and waiting on its read model."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.runtime.settings import Settings
from campaign_engine.services.notifications import Channel
from campaign_engine.worker import build_worker


async def end_running_campaigns(client: Client, task_queue: str) -> None:
    """Tests reuse campaign ids (the worked example's AAPL-2024-10-15): end a test's campaigns
    so that the next test starts its own instead of finding these (an update-with-start would
    join a running one, on a task queue nobody serves any more)."""
    query = f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        with contextlib.suppress(RPCError):
            await handle.terminate("end of test")


@dataclass
class Stack:
    client: CampaignClient
    engine: AsyncEngine
    repository: CampaignRepository
    settings: Settings


@contextlib.asynccontextmanager
async def running_stack(
    temporal: Client,
    database_url: str,
    settings: Settings,
    channels: Sequence[Channel] = (),
) -> AsyncIterator[Stack]:
    """The production composition over ``settings``: the portfolio's equity set and the worker
    running for the block; the test's campaigns ended after it (see ``end_running_campaigns``),
    whatever the block did last (recorded their histories, say) still inside it."""
    engine = create_engine_for(database_url, pool_size=5)
    repository = CampaignRepository(engine)
    await repository.ensure_portfolio(settings.account_equity)
    client = CampaignClient(temporal, policy=settings.policy, task_queue=settings.task_queue)
    try:
        async with build_worker(temporal, engine, settings, channels=list(channels)):
            yield Stack(client, engine, repository, settings)
            await end_running_campaigns(temporal, settings.task_queue)
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def settled(stack: Stack, campaign_id: str, version: int) -> CampaignState:
    """Wait until the campaign's read model has reached ``version``."""

    async def reached() -> bool:
        async with stack.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(campaigns.c.version).where(campaigns.c.campaign_id == campaign_id)
                )
            ).first()
        return row is not None and row.version >= version

    await eventually(reached)
    state = await stack.client.status(campaign_id)
    assert state is not None
    return state


async def persisted_status(
    stack: Stack, campaign_id: str, status: CampaignStatus, timeout: float = 20.0
) -> None:
    """Wait until the read model shows the campaign in ``status``, and for a final status with
    every position closed (a change and its events are written in one transaction)."""

    async def reached() -> bool:
        async with stack.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(campaigns.c.status, campaigns.c.closed_at).where(
                        campaigns.c.campaign_id == campaign_id
                    )
                )
            ).first()
        if row is None or row.status != status.value:
            return False
        return not status.is_terminal or row.closed_at is not None

    await eventually(reached, timeout)
