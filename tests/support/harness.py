"""Helpers for end-to-end tests: the running stack and waiting on its read model."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.client import CampaignClient
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.settings import Settings


@dataclass
class Stack:
    client: CampaignClient
    engine: AsyncEngine
    repository: CampaignRepository
    settings: Settings


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
