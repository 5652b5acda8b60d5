"""The simulated broker (``BROKER=sim``) through the running stack: the worker places orders
with it, the API's price flow drives its exchange. An approved entry rests at its limit; the
bars posted to ``POST /api/v1/prices`` that trade through it fill it in parts, and the
campaign's position grows by the shares each part filled. A target leg then sells half at once
and the rest on the next bar that reaches its level."""

import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.db.schema import audit_trail, broker_orders, campaign_exposure, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.orders import Order
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    OrderPurpose,
    OrderSide,
    OrderStatus,
    OrderType,
    Pattern,
)
from campaign_engine.runtime.settings import Settings
from campaign_engine.testing.builders import T0, as_price, as_shares, bar, signal
from tests.e2e.api_fixtures import V1, api_client, ok, submit
from tests.e2e.conftest import record_histories
from tests.support.harness import Stack, eventually, running_stack

D = Decimal


@pytest.fixture
def sim_config(request: pytest.FixtureRequest) -> SimConfig:
    """Half an order filling per bar, unless a test gives its own (indirect parametrize)."""
    given: SimConfig = getattr(request, "param", SimConfig(fill_fraction=D("0.5")))
    return given


@pytest.fixture
async def sim_stack(
    temporal: WorkflowEnvironment,
    database_url: str,
    sim_config: SimConfig,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    """The production composition with ``BROKER=sim``."""
    settings = Settings(
        database_url=database_url,
        task_queue=f"campaigns-sim-{uuid.uuid4().hex[:8]}",
        metrics_port=None,
        broker="sim",
        sim=sim_config,
    )
    async with running_stack(temporal.client, database_url, settings) as running:
        yield running
        if os.environ.get("RECORD_HISTORIES"):
            await record_histories(temporal, settings.task_queue, request.node.name)


@pytest.fixture
async def api(sim_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(sim_stack.settings, sim_stack.client, sim_stack.engine) as http:
        yield http


async def _booked(stack: Stack, client_order_id: str) -> tuple[str, Decimal] | None:
    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(
                select(broker_orders.c.status, broker_orders.c.filled_quantity).where(
                    broker_orders.c.client_order_id == client_order_id
                )
            )
        ).first()
    return None if row is None else (row.status, row.filled_quantity)


async def _filled_shares(stack: Stack, campaign_id: str, update: PriceUpdate) -> Decimal | None:
    """The shares the Spring entry has filled, once the campaign has taken ``update``."""
    state = await stack.client.status(campaign_id)
    assert state is not None
    if state.last_price_at is None or state.last_price_at < update.as_of:
        return None
    position = state.position_for(Pattern.SPRING)
    assert position is not None
    return position.shares


async def _open_shares(stack: Stack, campaign_id: str, update: PriceUpdate) -> Decimal | None:
    state = await stack.client.status(campaign_id)
    assert state is not None
    if state.last_price_at is None or state.last_price_at < update.as_of:
        return None
    position = state.position_for(Pattern.SPRING)
    assert position is not None
    return position.open_shares


async def _post(api: httpx.AsyncClient, update: PriceUpdate) -> None:
    answer = await ok(await api.post(f"{V1}/prices", json=update.model_dump(mode="json")), 202)
    assert answer == {"accepted": 1, "too_old": 0, "held": 0}


async def test_an_entry_rests_then_it_and_a_target_fill_in_parts_as_bars_trade_through(
    sim_stack: Stack, api: httpx.AsyncClient
) -> None:
    stack = sim_stack
    plan = await submit(api, signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00, at T0
    assert (plan["approved"], plan["shares"]) == (True, "333")
    campaign_id = plan["campaign_id"]
    entry_id = f"{campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return await _booked(stack, entry_id) is not None

    await eventually(placed)
    assert await _booked(stack, entry_id) == (OrderStatus.OPEN.value, D(0))  # resting

    # Each bar is posted once the campaign has taken the one before, so no two merge into one.
    steps = [
        (bar("149.00", "149.40", "148.70", "148.90", 10), D(0)),  # above the limit
        (bar("149.00", "149.40", "148.20", "148.80", 20), D(166)),  # at the limit
        (bar("148.40", "148.90", "148.10", "148.60", 30), D(332)),  # opened below: at 148.40
        (bar("148.60", "149.00", "148.45", "148.70", 40), D(333)),  # the last share
    ]
    for update, expected in steps:
        await _post(api, update)

        async def grown(update: PriceUpdate = update, expected: Decimal = expected) -> bool:
            return await _filled_shares(stack, campaign_id, update) == expected

        await eventually(grown)
    assert await _booked(stack, entry_id) == (OrderStatus.FILLED.value, D(333))

    state = await stack.client.status(campaign_id)
    assert state is not None
    position = state.position_for(Pattern.SPRING)
    assert position is not None
    assert (position.shares, position.open_shares) == (D(333), D(333))
    # The campaign books what the broker filled: 166 shares bought at 148.40, the open of the
    # bar that opened below the 148.50 limit, so the shares cost less than planned.
    assert position.entry_price == D("148.50")
    assert position.filled_cost == D("49433.90")  # 166 x 148.50 + 166 x 148.40 + 1 x 148.50
    assert position.average_entry_price == D("148.45015015")
    assert position.open_risk == D("482.89999995")  # (148.45015015 - 147.00) x 333
    (record,) = [r for r in state.orders if r.order.client_order_id == entry_id]
    assert record.fill_ids == tuple(f"{entry_id}:{n}" for n in (1, 2, 3))

    async def recorded() -> bool:
        async with stack.engine.connect() as conn:
            filled = await conn.scalar(
                select(orders.c.filled_quantity).where(orders.c.client_order_id == entry_id)
            )
        return filled == D(333)

    await eventually(recorded)  # the read model has what the campaign booked

    # The first target (150.00) is crossed: its leg of 166 sells half at once (on the bar
    # that crossed it), the rest on the next bar that reaches 150.
    target_id = f"{campaign_id}:SPRING:TARGET_1"
    for update, open_shares in [
        (bar("149.00", "150.20", "148.80", "150.10", 50), D(250)),
        (bar("149.80", "149.95", "149.60", "149.90", 55), D(250)),  # below the limit
        (bar("149.80", "150.05", "149.60", "149.90", 60), D(167)),
    ]:
        await _post(api, update)

        async def sold(update: PriceUpdate = update, open_shares: Decimal = open_shares) -> bool:
            return await _open_shares(stack, campaign_id, update) == open_shares

        await eventually(sold)
    assert await _booked(stack, target_id) == (OrderStatus.FILLED.value, D(166))
    assert await SimBroker(stack.engine, stack.settings.sim).position("AAPL") == D(167)
    state = await stack.client.status(campaign_id)
    assert state is not None
    position = state.position_for(Pattern.SPRING)
    assert position is not None
    # Breakeven is what the shares cost, and the target's P&L is counted from it.
    assert position.stop == D("148.45015015")
    assert position.realized_pnl == D("257.27507510")  # 166 x (150.00 - 148.45015015)

    async def read() -> bool:
        answer = await ok(await api.get(f"{V1}/campaigns/{campaign_id}"))
        (spring,) = answer["positions"]
        prices = (D(spring["entry_price"]), D(spring["average_entry_price"]))
        realized = D(spring["realized_pnl"])
        return prices == (D("148.50"), D("148.45015015")) and realized == D("257.27507510")

    await eventually(read)  # the read model shows both prices


@pytest.mark.parametrize(
    "sim_config", [SimConfig(buying_power=MoneyValue(D("40000")))], indirect=True
)
async def test_an_entry_refused_for_buying_power_is_announced_and_releases_its_risk(
    sim_stack: Stack, api: httpx.AsyncClient
) -> None:
    stack = sim_stack
    spring = signal(Pattern.SPRING)  # 333 at 148.50: 49,450.50 of 40,000
    plan = await submit(api, spring)
    assert plan["approved"] is True  # the engine's rules approve; the broker refuses
    campaign_id = plan["campaign_id"]

    async def refused() -> bool:  # placed after the answer, by the change carried out then
        booked = await _booked(stack, f"{campaign_id}:SPRING:ENTRY")
        return booked == (OrderStatus.REJECTED.value, D(0))

    await eventually(refused)

    async def announced() -> bool:
        async with stack.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(audit_trail.c.data).where(
                        audit_trail.c.campaign_id == campaign_id,
                        audit_trail.c.event_type == "AllocationRejected",
                    )
                )
            ).all()
        return len(rows) == 1

    await eventually(announced)
    async with stack.engine.connect() as conn:
        (data,) = (
            await conn.execute(
                select(audit_trail.c.data).where(audit_trail.c.event_type == "AllocationRejected")
            )
        ).scalars()
        reserved = await conn.scalar(
            select(campaign_exposure.c.reserved_risk).where(
                campaign_exposure.c.campaign_id == campaign_id
            )
        )
    assert (data["code"], data["reason"]) == (
        "BROKER_REJECTED",
        "insufficient buying power: 49450.5 for this order and 0 committed exceed 40000",
    )
    assert data["signal_id"] == str(spring.signal_id)
    assert reserved == D(0)


async def test_an_entry_filled_in_part_expires_and_the_broker_keeps_its_fills(
    sim_stack: Stack, api: httpx.AsyncClient
) -> None:
    stack = sim_stack
    plan = await submit(api, signal(Pattern.SPRING))  # 1h bars: expires 3 bars after T0
    campaign_id = plan["campaign_id"]
    entry_id = f"{campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return await _booked(stack, entry_id) is not None

    await eventually(placed)
    for update, expected in [
        (bar("149.00", "149.40", "148.20", "148.80", 30), D(166)),
        (bar("149.00", "149.60", "148.70", "149.20", 90), D(166)),
        (bar("149.10", "149.60", "148.60", "149.30", 180), D(166)),  # 3 bars: the rest expires
    ]:
        await _post(api, update)

        async def taken(update: PriceUpdate = update, expected: Decimal = expected) -> bool:
            return await _filled_shares(stack, campaign_id, update) == expected

        await eventually(taken)

    async def released() -> bool:
        async with stack.engine.connect() as conn:
            reserved = await conn.scalar(
                select(campaign_exposure.c.reserved_risk).where(
                    campaign_exposure.c.campaign_id == campaign_id
                )
            )
        return reserved == D(0)

    # The campaign learns the cancel's outcome when it next asks the broker (a poll).
    await eventually(released, timeout=60)
    assert await _booked(stack, entry_id) == (OrderStatus.CANCELLED.value, D(166))
    state = await stack.client.status(campaign_id)
    assert state is not None
    position = state.position_for(Pattern.SPRING)
    assert position is not None
    assert (position.shares, position.open_shares, position.unfilled_shares) == (
        D(166),
        D(166),
        D(0),
    )
    # A later bar through the limit fills nothing more: the order has ended at the broker.
    await _post(api, bar("148.00", "148.40", "147.70", "148.10", 240))
    assert await _booked(stack, entry_id) == (OrderStatus.CANCELLED.value, D(166))


@pytest.mark.parametrize(
    "sim_config",
    [SimConfig(fill_fraction=D("0.5"), wash_trade_rule=True, pending_cancels=True)],
    indirect=True,
)
async def test_a_partly_filled_entry_then_a_break_of_the_range_ends_invalidated_and_flat(
    sim_stack: Stack, api: httpx.AsyncClient
) -> None:
    """Issue 22: a broker that acknowledges a cancel before confirming it and refuses a market
    sell while a buy on the symbol is open (Alpaca's wash-trade rule). The invalidation exit
    waits until the unfilled entry is confirmed cancelled, then sells, and the campaign ends
    INVALIDATED with nothing held at the broker."""
    stack = sim_stack
    sim = SimBroker(stack.engine, stack.settings.sim)
    plan = await submit(api, signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00
    campaign_id = plan["campaign_id"]
    entry_id = f"{campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return await _booked(stack, entry_id) is not None

    await eventually(placed)
    first = bar("149.00", "149.40", "148.20", "148.80", 20)  # fills half of the entry
    await _post(api, first)

    async def part_filled() -> bool:
        return await _filled_shares(stack, campaign_id, first) == D(166)

    await eventually(part_filled)

    # The range breaks (below the Spring's stop, 147.00): exit everything and cancel the rest
    # of the entry (which this bar, opening below the limit, filled further first).
    breaks = bar("147.50", "147.60", "146.50", "146.80", 30)
    await _post(api, breaks)

    async def invalidated() -> bool:
        state = await stack.client.status(campaign_id)
        return state is not None and state.status is CampaignStatus.INVALIDATED

    await eventually(invalidated)

    # The campaign is INVALIDATED as soon as it decides so; its sell reaches the broker once
    # the cancelled entry is confirmed (the wash-trade wait). A bar posted before that would
    # find no sell to fill, and none would come after it.
    async def sell_placed() -> bool:
        return await _booked(stack, f"{campaign_id}:SPRING:INVALIDATION") is not None

    await eventually(sell_placed)
    # The part of the market sell that did not fill at once fills at the next bar's open.
    await _post(api, bar("146.80", "147.00", "146.20", "146.40", 40))

    async def flat() -> bool:
        state = await stack.client.status(campaign_id)
        assert state is not None
        return (
            state.status is CampaignStatus.INVALIDATED
            and state.closed_at is not None
            and await sim.position("AAPL") == D(0)
        )

    await eventually(flat, timeout=30)
    assert await sim.blocking_buys(_market_sell(campaign_id)) == ()
    async with stack.engine.connect() as conn:
        refused = await conn.scalar(
            select(func.count())
            .select_from(audit_trail)
            .where(audit_trail.c.campaign_id == campaign_id)
            .where(audit_trail.c.data["kind"].astext == "ExitOrderFailed")
        )
    assert refused == 0  # the sell waited for the cancel: the broker never had to refuse it


def _market_sell(campaign_id: str) -> Order:
    return Order(
        client_order_id=f"{campaign_id}:probe",
        campaign_id=campaign_id,
        position_id=uuid.uuid4(),
        symbol="AAPL",
        side=OrderSide.SELL,
        order_type=OrderType.MARKET,
        purpose=OrderPurpose.BY_HAND,
        quantity=as_shares(1),
        limit_price=None,
        expected_price=as_price("146.60"),
        created_at=T0,
        correlation_id="probe",
    )
