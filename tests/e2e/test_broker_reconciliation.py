"""A broker that does not fill at once, through the real worker, Temporal and PostgreSQL: two
of the cases users of other trading engines report most after a restart: an entry still open
at the broker (filled in part while the worker was down, the rest not taken as filled), and
shares sold at the broker by hand while the engine was down; and a campaign whose run ended,
reloaded by its next signal, asking the broker first. (An entry that expires, and one
given up on that filled after all, are the workflow's own logic: ``tests/workflow``.)"""

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from campaign_engine.db.schema import audit_trail, broker_orders, campaigns
from campaign_engine.domain.orders import Fill
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern, PositionStatus
from campaign_engine.temporal.messages import GET_ORDER, workflow_id_for
from campaign_engine.testing.builders import T0, signal, tick
from tests.e2e.conftest import record_histories
from tests.support.harness import Stack, eventually
from tests.support.resting_broker import fill_at_broker, sell_by_hand
from tests.support.worker_process import WorkerProcess, stack_with_worker_process

D = Decimal


@dataclass
class Resting:
    stack: Stack
    worker: WorkerProcess


def resting_stack(cancel: str = "") -> Callable[..., Any]:
    @pytest.fixture
    async def fixture(
        temporal: WorkflowEnvironment,
        database_url: str,
        tmp_path: Path,
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[Resting]:
        async with stack_with_worker_process(
            temporal,
            database_url,
            tmp_path,
            queue_prefix="campaigns-reconcile",
            # Ask the broker at least every 2 s (the campaigns their orders, the worker's
            # holdings reconciler the account), so a test sees a reconciliation soon.
            env={"RESTING_CANCEL": cancel, "CAMPAIGNS_RECONCILE_EVERY": "2"},
            module="tests.support.resting_broker",
            client_options={"reconcile_every_seconds": 2},
        ) as (stack, worker):
            yield Resting(stack, worker)
            if os.environ.get("RECORD_HISTORIES"):
                await record_histories(temporal, stack.settings.task_queue, request.node.name)

    return fixture


resting = resting_stack()


async def kinds(stack: Stack, campaign_id: str) -> list[str]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_trail.c.data["kind"].astext)
            .where(audit_trail.c.campaign_id == campaign_id)
            .order_by(audit_trail.c.seq)
        )
        return [kind for (kind,) in rows]


async def state_of(stack: Stack, campaign_id: str) -> CampaignState:
    state = await stack.client.status(campaign_id)
    assert state is not None
    return state


async def reserved_in_db(stack: Stack, campaign_id: str) -> Decimal:
    async with stack.engine.connect() as conn:
        value: Decimal | None = await conn.scalar(
            select(campaigns.c.reserved_risk).where(campaigns.c.campaign_id == campaign_id)
        )
    assert value is not None
    return value


async def resting_spring(stack: Stack) -> str:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    assert plan.approved and plan.shares == D(333)

    async def placed() -> bool:  # resting at the broker, not only decided
        async with stack.engine.connect() as conn:
            found = await conn.scalar(
                select(broker_orders.c.status).where(
                    broker_orders.c.client_order_id == f"{plan.campaign_id}:SPRING:ENTRY"
                )
            )
        return found == "OPEN"

    await eventually(placed)
    return plan.campaign_id


async def fill_part_at_broker(stack: Stack, entry_id: str) -> None:
    """100 of the entry's shares traded at the broker through its limit; the rest still open."""
    part = Fill(
        fill_id=f"{entry_id}:1",
        client_order_id=entry_id,
        quantity=D(100),
        price=D("148.50"),
        filled_at=T0,
    )
    await fill_at_broker(stack.engine, entry_id, part, status="OPEN")


async def test_an_entry_still_open_after_a_restart_keeps_its_rest_reserved(
    resting: Resting,
) -> None:
    stack, worker = resting.stack, resting.worker
    campaign_id = await resting_spring(stack)
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    worker.kill()
    # While the worker is down, the market trades 100 shares through the limit.
    await fill_part_at_broker(stack, entry_id)
    worker.start()

    async def booked() -> bool:
        spring = (await state_of(stack, campaign_id)).position_for(Pattern.SPRING)
        return spring is not None and spring.shares == D(100)

    await eventually(booked, timeout=60)
    state = await state_of(stack, campaign_id)
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None
    assert (spring.status, spring.open_shares, spring.unfilled_shares) == (
        PositionStatus.OPEN,
        D(100),
        D(233),
    )
    record = state.order(entry_id)
    assert record is not None and record.status.value == "OPEN"  # not taken as filled
    assert await reserved_in_db(stack, campaign_id) == D("349.50")  # 233 x 1.50


async def test_shares_sold_at_the_broker_by_hand_while_down_are_booked_once(
    resting: Resting,
) -> None:
    stack, worker = resting.stack, resting.worker
    campaign_id = await resting_spring(stack)
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    whole = Fill(
        fill_id=f"{entry_id}:1",
        client_order_id=entry_id,
        quantity=D(333),
        price=D("148.50"),
        filled_at=T0,
    )
    await fill_at_broker(stack.engine, entry_id, whole)
    await stack.client.send_price(campaign_id, tick("149.40", 30))

    async def opened() -> bool:
        spring = (await state_of(stack, campaign_id)).position_for(Pattern.SPRING)
        return spring is not None and spring.open_shares == D(333)

    await eventually(opened, timeout=60)
    worker.kill()
    await sell_by_hand(stack.engine, "AAPL", D(333))
    worker.start()

    async def completed() -> bool:
        return (await state_of(stack, campaign_id)).status is CampaignStatus.COMPLETED

    await eventually(completed, timeout=60)
    spring = (await state_of(stack, campaign_id)).position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == 0
    by_hand = spring.exits[-1]
    assert (by_hand.purpose.value, by_hand.quantity, by_hand.price) == (
        "BY_HAND",
        D(333),
        D("149.40"),  # the last price seen
    )

    # The run's state is answered as committed, the trail once carried out: wait for it, then
    # for two more of the reconciler's rounds, which must book nothing again.
    async def announced() -> bool:
        return "BrokerDifference" in await kinds(stack, campaign_id)

    await eventually(announced, timeout=30)
    await asyncio.sleep(4.5)
    trail = await kinds(stack, campaign_id)
    assert trail.count("BrokerDifference") == 1 and trail.count("ExitExecuted") == 1


async def test_a_campaign_reloaded_by_its_next_signal_asks_the_broker_first(
    resting: Resting, temporal: WorkflowEnvironment
) -> None:
    """A run that ended (terminated here, as an operator may) leaves its entry resting at the
    broker, which fills part of it meanwhile. The campaign's next signal starts a new run by
    update-with-start, the signal loading the campaign: that run asks the broker how the entry
    stands before anything else, not a poll's interval later (its first timer is that poll's).
    """
    stack = resting.stack
    campaign_id = await resting_spring(stack)
    handle = temporal.client.get_workflow_handle(workflow_id_for(campaign_id))
    await handle.terminate("the run ended")
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    await fill_part_at_broker(stack, entry_id)
    await stack.client.submit(signal(Pattern.SOS))  # approved or not, it starts a new run

    async def booked() -> bool:
        position = (await state_of(stack, campaign_id)).position_for(Pattern.SPRING)
        return position is not None and position.shares == D(100)

    await eventually(booked, timeout=60)
    events = (await handle.fetch_history()).events  # the newest run's
    asked = [
        n
        for n, e in enumerate(events)
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == GET_ORDER
    ]
    timed = [n for n, e in enumerate(events) if e.HasField("timer_started_event_attributes")]
    assert asked, "the new run never asked the broker"
    assert not timed or asked[0] < timed[0], "the new run waited for a poll before asking"
