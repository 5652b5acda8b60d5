"""An order the broker leaves open is part of the campaign's state: it survives
continue-as-new and a worker killed and restarted, and its fill, when it comes, is booked
exactly once."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from campaign_engine.db.schema import audit_trail, orders, positions
from campaign_engine.domain.orders import Fill
from campaign_engine.domain.vocabulary import Pattern, PositionStatus
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import T0, signal, tick
from tests.support.harness import Stack, eventually
from tests.support.resting_broker import fill_at_broker
from tests.support.worker_process import WorkerProcess, stack_with_worker_process

D = Decimal


@dataclass
class RestingStack:
    stack: Stack
    worker: WorkerProcess


@pytest.fixture
async def resting(
    temporal: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[RestingStack]:
    async with stack_with_worker_process(
        temporal,
        database_url,
        tmp_path,
        queue_prefix="campaigns-resting",
        module="tests.support.resting_broker",
        # The smallest history a run may grow to before it continues as new.
        client_options={"continue_as_new_after_events": 50},
        start=False,
    ) as (stack, worker):
        yield RestingStack(stack, worker)


async def _entry_status(stack: Stack, client_order_id: str) -> str | None:
    async with stack.engine.connect() as conn:
        status: str | None = await conn.scalar(
            select(orders.c.status).where(orders.c.client_order_id == client_order_id)
        )
        return status


@pytest.mark.long(seconds=22)
async def test_an_open_entry_is_booked_once_after_continue_as_new_and_a_restart(
    resting: RestingStack,
) -> None:
    stack, worker = resting.stack, resting.worker
    worker.start()
    plan = await stack.client.submit(signal(Pattern.SPRING))
    assert plan.approved and plan.shares == D(333)
    campaign_id = plan.campaign_id
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))
    first_run = (await handle.describe()).run_id

    async def resting_at_broker() -> bool:
        return await _entry_status(stack, entry_id) == "OPEN"

    await eventually(resting_at_broker)

    # Prices that cross nothing while the entry rests grow the history past 50 events: the run
    # continues as new, carrying the open order in its state.
    for minute in range(1, 25):
        await stack.client.send_price(campaign_id, tick("148.80", minute))

    async def continued() -> bool:
        first = stack.client.temporal.get_workflow_handle(handle.id, run_id=first_run)
        return (await first.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW

    await eventually(continued, timeout=60)
    state = await stack.client.status(campaign_id)
    assert state is not None
    record = state.order(entry_id)
    assert record is not None and record.filled_quantity == 0
    pending = state.position_for(Pattern.SPRING)
    assert pending is not None and pending.status is PositionStatus.PENDING

    # The worker dies; meanwhile the market trades through the limit and the broker fills it.
    worker.kill()
    fill = Fill(
        fill_id=f"{entry_id}:1",
        client_order_id=entry_id,
        quantity=D(333),
        price=D("148.50"),
        filled_at=T0,
    )
    await fill_at_broker(stack.engine, entry_id, fill)
    worker.start()

    async def booked() -> bool:
        return await _entry_status(stack, entry_id) == "FILLED"

    await eventually(booked, timeout=60)

    # Once more killed and restarted, and a later price: still one fill, one position.
    worker.kill()
    worker.start()
    await stack.client.send_price(campaign_id, tick("149.00", 30))

    async def priced() -> bool:
        current = await stack.client.status(campaign_id)
        return current is not None and current.last_price == D("149.00")

    await eventually(priced, timeout=60)
    await asyncio.sleep(1)  # a double booking would have been carried out by now
    state = await stack.client.status(campaign_id)
    assert state is not None
    record = state.order(entry_id)
    assert record is not None and record.fill_ids == (fill.fill_id,)
    assert record.filled_quantity == D(333)
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None
    assert (spring.status, spring.shares, spring.open_shares) == (
        PositionStatus.OPEN,
        D(333),
        D(333),
    )
    async with stack.engine.connect() as conn:
        opened = await conn.scalar(
            select(func.count()).where(audit_trail.c.event_type == "PositionOpened")
        )
        stored = (await conn.execute(select(positions.c.shares, positions.c.open_shares))).one()
    assert opened == 1
    assert tuple(stored) == (D(333), D(333))
