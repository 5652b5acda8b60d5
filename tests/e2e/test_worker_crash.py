"""A worker killed with SIGKILL mid-scenario and restarted ends in the same state, with no
order placed twice and no event recorded twice, and its outbox relay announces every event."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import (
    audit_trail,
    broker_orders,
    campaigns,
    orders,
    outbox,
    positions,
)
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.runtime.settings import Settings
from campaign_engine.testing.builders import signal, tick
from tests.e2e.api_fixtures import V1, api_client
from tests.support.harness import Stack, end_running_campaigns, eventually, persisted_status
from tests.support.worker_process import WorkerProcess, worker_environment

D = Decimal


@pytest.fixture
async def crash_stack(
    temporal: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Stack, WorkerProcess]]:
    queue = f"campaigns-crash-{uuid.uuid4().hex[:8]}"
    env = worker_environment(temporal, database_url, queue)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    settings = Settings(database_url=database_url, task_queue=queue, metrics_port=None)
    engine = create_engine_for(database_url, pool_size=2)
    client = CampaignClient(temporal.client, policy=Policy(), task_queue=queue)
    try:
        yield Stack(client, engine, CampaignRepository(engine), settings), worker
    finally:
        worker.stop()
        await end_running_campaigns(temporal.client, queue)
        await engine.dispose()
        print(worker.output()[-5000:])  # shown by pytest when the test fails


async def test_sigkill_mid_scenario_then_restart(crash_stack: tuple[Stack, WorkerProcess]) -> None:
    stack, worker = crash_stack
    client = stack.client
    worker.start()
    spring = await client.submit(signal(Pattern.SPRING))
    await client.submit(signal(Pattern.SOS))
    await client.submit(signal(Pattern.LPS))
    campaign_id = spring.campaign_id

    # Kill while the entries' effects and the first targets are being carried out.
    await client.send_price(campaign_id, tick("150.00", 1))
    await client.send_price(campaign_id, tick("156.00", 2))
    await asyncio.sleep(0.2)
    worker.kill()
    worker.start()
    await client.send_price(campaign_id, tick("159.00", 3))
    await client.send_price(campaign_id, tick("162.00", 4))
    await asyncio.sleep(0.5)
    worker.kill()
    worker.start()

    # Work in flight on a killed worker is retried once its timeout passes (10 s).
    await persisted_status(stack, campaign_id, CampaignStatus.COMPLETED, timeout=120)
    async with stack.engine.connect() as conn:
        placed = (await conn.execute(select(func.count()).select_from(broker_orders))).scalar_one()
        sells = (
            (await conn.execute(select(orders.c.quantity).where(orders.c.side == "SELL")))
            .scalars()
            .all()
        )
        pnl = (
            await conn.execute(
                select(positions.c.pattern, positions.c.realized_pnl, positions.c.open_shares)
            )
        ).all()
        kinds = (await conn.execute(select(audit_trail.c.event_type))).scalars().all()
        realized = (await conn.execute(select(campaigns.c.realized_pnl))).scalar_one()
    assert placed == 12  # 3 entries and 9 exits, each exactly once
    assert sorted(sells) == sorted(D(q) for q in (166, 99, 68, 333, 199, 134, 200, 120, 80))
    assert {p: o for p, _, o in pnl} == {"SPRING": 0, "SOS": 0, "LPS": 0}
    # The same money as the uninterrupted story.
    spring_pnl = 166 * D("1.50") + 99 * D("7.50") + 68 * D("10.50")
    sos_pnl = 333 * D("5.75") + 199 * D("8.75") + 134 * D("11.75")
    lps_pnl = 200 * D("5.00") + 120 * D("8.00") + 80 * D("11.00")
    assert {p: r for p, r, _ in pnl} == {"SPRING": spring_pnl, "SOS": sos_pnl, "LPS": lps_pnl}
    assert realized == spring_pnl + sos_pnl + lps_pnl
    assert kinds.count("ExitExecuted") == 9
    assert kinds.count("PositionOpened") == 3
    assert kinds.count("CampaignCompleted") == 1

    # The relay runs in the worker process too: what the killed workers left, it announces.
    async def announced() -> bool:
        async with stack.engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(outbox)) == 0

    await eventually(announced)


async def test_a_price_accepted_while_the_worker_is_down_closes_the_campaign_after_restart(
    crash_stack: tuple[Stack, WorkerProcess],
) -> None:
    stack, worker = crash_stack
    worker.start()
    plan = await stack.client.submit(signal(Pattern.SOS))
    await persisted_status(stack, plan.campaign_id, CampaignStatus.MARKUP)
    async with api_client(stack.settings, stack.client, stack.engine) as api:
        worker.kill()
        # The API takes the price that crosses the stop while no worker runs...
        crossing = [tick("148.00", 5).model_dump(mode="json")]
        answer = await api.post(f"{V1}/prices", json=crossing)
        assert answer.status_code == 202 and answer.json() == {
            "accepted": 1,
            "too_old": 0,
            "held": 0,
        }
        await asyncio.sleep(1.5)  # flushed by the publisher to the campaign's workflow
        worker.start()
        # ... and the campaign takes it once a worker is back: stopped out, nothing lost.
        await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED, timeout=60)
    async with stack.engine.connect() as conn:
        sells = (await conn.execute(select(orders.c.purpose, orders.c.quantity))).all()
    assert [tuple(s) for s in sells if s.purpose != "ENTRY"] == [("STOP", D(1333))]
