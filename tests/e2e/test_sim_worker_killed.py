"""A scenario through ``BROKER=sim`` with partial fills, an expiry, a stop-out and the worker
killed mid-way (the simulated broker keeps filling while it is down): at the end every share
and every dollar of risk is accounted for, and the engine agrees with the broker's book."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.db.schema import broker_orders, campaign_exposure
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import total
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import OrderSide, OrderStatus, Pattern
from campaign_engine.testing.builders import T0, bar, signal
from tests.e2e.api_fixtures import V1, api_client, ok, submit
from tests.support.harness import Stack, eventually
from tests.support.worker_process import WorkerProcess, stack_with_worker_process

D = Decimal
HALF = SimConfig(fill_fraction=D("0.5"))


@dataclass
class SimRun:
    stack: Stack
    worker: WorkerProcess
    api: httpx.AsyncClient


@pytest.fixture
async def sim_run(
    temporal: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[SimRun]:
    async with stack_with_worker_process(
        temporal,
        database_url,
        tmp_path,
        queue_prefix="campaigns-simkill",
        env={"BROKER": "sim", "SIM_FILL_FRACTION": "0.5", "CAMPAIGNS_RECONCILE_EVERY": "2"},
        settings_options={"broker": "sim", "sim": HALF},
        client_options={"reconcile_every_seconds": 2},
    ) as (stack, worker):
        await stack.repository.ensure_portfolio(stack.settings.account_equity)
        async with api_client(stack.settings, stack.client, stack.engine) as http:
            yield SimRun(stack, worker, http)


async def _state(stack: Stack, campaign_id: str) -> CampaignState:
    state = await stack.client.status(campaign_id)
    assert state is not None
    return state


async def _post_and_wait(run: SimRun, campaign_id: str, update: PriceUpdate) -> None:
    answer = await ok(await run.api.post(f"{V1}/prices", json=update.model_dump(mode="json")), 202)
    assert answer == {"accepted": 1, "too_old": 0, "held": 0}

    async def taken() -> bool:
        seen = (await _state(run.stack, campaign_id)).last_price_at
        return seen is not None and seen >= update.as_of

    await eventually(taken, timeout=60)


async def _filled_at_broker(stack: Stack, client_order_id: str) -> Decimal:
    async with stack.engine.connect() as conn:
        filled: Decimal | None = await conn.scalar(
            select(broker_orders.c.filled_quantity).where(
                broker_orders.c.client_order_id == client_order_id
            )
        )
    return filled or D(0)


async def test_partials_an_expiry_and_a_killed_worker_leave_every_share_accounted_for(
    sim_run: SimRun,
) -> None:
    stack, worker = sim_run.stack, sim_run.worker
    spring = await submit(sim_run.api, signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00
    campaign_id = spring["campaign_id"]
    sos = await submit(sim_run.api, signal(Pattern.SOS, at=T0.replace(second=1)))
    assert spring["approved"] and sos["approved"]

    async def resting() -> bool:
        async with stack.engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(broker_orders))
        return count == 2

    await eventually(resting)
    # Half of each entry fills on a bar through both limits.
    await _post_and_wait(sim_run, campaign_id, bar("149.00", "149.40", "148.20", "148.80", 20))

    # The worker dies; the market goes on and the simulated broker fills more meanwhile.
    worker.kill()
    answer = await ok(
        await sim_run.api.post(
            f"{V1}/prices",
            json=bar("148.90", "149.30", "148.30", "149.10", 40).model_dump(mode="json"),
        ),
        202,
    )
    assert answer["accepted"] == 1
    worker.start()
    await _post_and_wait(sim_run, campaign_id, bar("149.20", "149.60", "149.00", "149.40", 60))

    # Three bars after the signals the Spring's last share has not filled: it expires. The
    # bar dips below the SOS's stop (148.75): the SOS stops out, half at once, the rest on the
    # next bar's open.
    await _post_and_wait(sim_run, campaign_id, bar("149.00", "149.10", "148.60", "148.70", 180))
    await _post_and_wait(sim_run, campaign_id, bar("148.80", "149.20", "148.70", "149.00", 200))

    async def settled() -> bool:
        state = await _state(stack, campaign_id)
        return not state.open_order_ids

    await eventually(settled, timeout=60)
    state = await _state(stack, campaign_id)
    broker = SimBroker(stack.engine, HALF)
    for position in state.positions:
        entry_id = f"{campaign_id}:{position.pattern.value}:ENTRY"
        sells = [
            r
            for r in state.orders
            if r.order.position_id == position.id and r.order.side is OrderSide.SELL
        ]
        sold_at_broker = sum(
            [await _filled_at_broker(stack, r.order.client_order_id) for r in sells], D(0)
        )
        assert position.shares == await _filled_at_broker(stack, entry_id)
        assert position.open_shares == position.shares - sold_at_broker
        assert total(e.quantity for e in position.exits) == sold_at_broker
        assert position.unfilled_shares == 0 and position.pending_exit_shares == 0
    assert await broker.position("AAPL") == total(p.open_shares for p in state.positions)

    spring_position = state.position_for(Pattern.SPRING)
    sos_position = state.position_for(Pattern.SOS)
    assert spring_position is not None and sos_position is not None
    assert spring_position.shares == 332  # 166 + 166; the last share expired unfilled
    assert sos_position.open_shares == 0  # stopped out in full
    spring_entry = state.order(f"{campaign_id}:SPRING:ENTRY")
    assert spring_entry is not None and spring_entry.status is OrderStatus.CANCELLED
    assert state.reserved_risk == 0

    async def persisted() -> bool:
        async with stack.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(campaign_exposure.c.open_risk, campaign_exposure.c.reserved_risk).where(
                        campaign_exposure.c.campaign_id == campaign_id
                    )
                )
            ).one()
        return tuple(row) == (state.open_risk, D(0))

    await eventually(persisted)
