"""The production worker with ``BROKER=alpaca``, against the local fake Alpaca: a campaign's
entry is placed at "Alpaca" under its client order id, fills there in two executions, and
the trade_updates stream pushes them to the campaign, which books each once."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import audit_trail
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus, OrderStatus, Pattern, PositionStatus
from campaign_engine.runtime.settings import Settings
from campaign_engine.temporal.messages import ORDER_UPDATE, workflow_id_for
from campaign_engine.testing.builders import bar, signal, tick
from campaign_engine.testing.fake_alpaca import KEY_ID, SECRET, FakeAlpaca, serving
from tests.support.harness import Stack, end_running_campaigns, eventually
from tests.support.worker_process import WorkerProcess, worker_environment

D = Decimal


@dataclass
class AlpacaStack:
    stack: Stack
    worker: WorkerProcess
    fake: FakeAlpaca


@pytest.fixture
async def alpaca(
    temporal: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> AsyncIterator[AlpacaStack]:
    queue = f"campaigns-alpaca-{uuid.uuid4().hex[:8]}"
    async with serving(FakeAlpaca()) as fake:
        env = worker_environment(temporal, database_url, queue) | {
            "BROKER": "alpaca",
            "ALPACA_API_KEY_ID": KEY_ID,
            "ALPACA_API_SECRET_KEY": SECRET,
            "ALPACA_BASE_URL": fake.base_url,
            "LOG_LEVEL": "INFO",
        }
        worker = WorkerProcess(env, tmp_path / "worker.log")
        engine = create_engine_for(database_url, pool_size=2)
        client = CampaignClient(temporal.client, policy=Policy(), task_queue=queue)
        settings = Settings(database_url=database_url, task_queue=queue, metrics_port=None)
        try:
            stack = Stack(client, engine, CampaignRepository(engine), settings)
            yield AlpacaStack(stack, worker, fake)
        finally:
            worker.stop()
            await end_running_campaigns(temporal.client, queue)
            await engine.dispose()
            print(worker.output()[-5000:])  # shown by pytest when the test fails


async def test_an_entry_placed_at_alpaca_is_booked_from_the_fills_its_stream_pushes(
    alpaca: AlpacaStack,
) -> None:
    stack, worker, fake = alpaca.stack, alpaca.worker, alpaca.fake
    worker.start()

    async def stream_connected() -> bool:
        return fake.listening >= 1

    await eventually(stream_connected, timeout=60)
    spring_signal = signal(Pattern.SPRING)
    plan = await stack.client.submit(spring_signal)
    assert plan.approved and plan.shares == D(333)
    entry_id = f"{plan.campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return entry_id in fake.book.by_client_id

    await eventually(placed, timeout=30)
    at_alpaca = fake.order(entry_id)
    assert (at_alpaca["qty"], at_alpaca["side"], at_alpaca["type"]) == ("333", "buy", "limit")
    limit = spring_signal.entry_price
    assert D(at_alpaca["limit_price"]) == limit == D("148.50")

    # The market trades through the limit in two executions.
    fake.fill(entry_id, D(100), limit)
    fake.fill(entry_id, D(233), limit - D("0.02"))

    async def booked() -> bool:
        state = await stack.client.status(plan.campaign_id)
        record = state.order(entry_id) if state is not None else None
        return record is not None and record.status is OrderStatus.FILLED

    await eventually(booked, timeout=30)
    state = await stack.client.status(plan.campaign_id)
    assert state is not None
    record = state.order(entry_id)
    assert record is not None
    assert record.fill_ids == (f"{entry_id}:fill:100", f"{entry_id}:fill:333")
    assert record.filled_quantity == D(333)
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None
    assert (spring.status, spring.shares, spring.open_shares) == (
        PositionStatus.OPEN,
        D(333),
        D(333),
    )

    # Pushed by the stream (the order_update signal), and placed once.
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))
    history = await handle.fetch_history()
    pushed = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert pushed.count(ORDER_UPDATE) >= 1
    assert sum(1 for r in fake.requests if r.method == "POST") == 1
    async with stack.engine.connect() as conn:
        kinds = (await conn.scalars(select(audit_trail.c.event_type))).all()
    assert kinds.count("PositionOpened") == 1
    assert SECRET not in worker.output()


async def test_an_entry_alpaca_refuses_releases_its_risk_with_alpacas_reason(
    alpaca: AlpacaStack,
) -> None:
    stack, worker, fake = alpaca.stack, alpaca.worker, alpaca.fake
    fake.book.buying_power = D(10_000)  # 333 x 148.50 is more
    worker.start()
    plan = await stack.client.submit(signal(Pattern.SPRING))
    assert plan.approved  # the engine's decision; the broker's comes after it

    async def rejected() -> bool:
        async with stack.engine.connect() as conn:
            rows = await conn.execute(
                select(audit_trail.c.data).where(audit_trail.c.event_type == "AllocationRejected")
            )
            return any("insufficient buying power" in str(data) for data in rows.scalars())

    await eventually(rejected, timeout=30)
    state = await stack.client.status(plan.campaign_id)
    assert state is not None
    record = state.order(f"{plan.campaign_id}:SPRING:ENTRY")
    assert record is not None
    assert (record.status, record.reason) == (OrderStatus.REJECTED, "insufficient buying power")
    assert fake.book.orders == {}


async def test_a_fill_made_while_the_worker_was_down_is_booked_once_from_alpacas_account(
    alpaca: AlpacaStack,
) -> None:
    stack, worker, fake = alpaca.stack, alpaca.worker, alpaca.fake
    worker.start()

    async def stream_connected() -> bool:
        return fake.listening >= 1

    await eventually(stream_connected, timeout=60)
    plan = await stack.client.submit(signal(Pattern.SPRING))
    entry_id = f"{plan.campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return entry_id in fake.book.by_client_id

    await eventually(placed, timeout=30)
    fake.fill(entry_id, D(100), D("148.50"))  # pushed by the stream

    async def filled(quantity: Decimal) -> bool:
        state = await stack.client.status(plan.campaign_id)
        record = state.order(entry_id) if state is not None else None
        return record is not None and record.filled_quantity == quantity

    await eventually(lambda: filled(D(100)), timeout=30)

    # The worker dies; Alpaca fills the rest meanwhile and nobody hears its stream.
    worker.kill()

    async def stream_gone() -> bool:
        return fake.listening == 0

    await eventually(stream_gone, timeout=30)
    fake.fill(entry_id, D(233), D("148.45"))
    worker.start()  # the run asks Alpaca at once: the order and its FILL activities

    await eventually(lambda: filled(D(333)), timeout=60)
    state = await stack.client.status(plan.campaign_id)
    assert state is not None
    record = state.order(entry_id)
    assert record is not None and record.status is OrderStatus.FILLED
    # The fill the stream pushed and the one read from the account: each once, by one id.
    assert record.fill_ids == (f"{entry_id}:fill:100", f"{entry_id}:fill:333")
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == D(333)


# --- issue 22: the broker's word is the ledger ------------------------------------------------


async def _placed(fake: FakeAlpaca, client_order_id: str) -> None:
    async def there() -> bool:
        return client_order_id in fake.book.by_client_id

    await eventually(there, timeout=30)


async def test_fills_better_than_the_limit_are_booked_at_their_price(alpaca: AlpacaStack) -> None:
    """The issue's run: AAPL filled 133 @ 148.50 and 200 @ 148.45. Breakeven is the average
    fill and the realized P&L is the broker's books': 240.28, not 230.28."""
    stack, worker, fake = alpaca.stack, alpaca.worker, alpaca.fake
    worker.start()

    async def stream_connected() -> bool:
        return fake.listening >= 1

    await eventually(stream_connected, timeout=60)
    plan = await stack.client.submit(signal(Pattern.SPRING))
    campaign_id = plan.campaign_id
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    await _placed(fake, entry_id)
    fake.fill(entry_id, D(133), D("148.50"))
    fake.fill(entry_id, D(200), D("148.45"))

    async def position_is(open_shares: Decimal, stop: Decimal | None = None) -> bool:
        state = await stack.client.status(campaign_id)
        spring = state.position_for(Pattern.SPRING) if state is not None else None
        return (
            spring is not None
            and spring.open_shares == open_shares
            and spring.shares == D(333)
            and (stop is None or spring.stop == stop)
        )

    await eventually(lambda: position_is(D(333)), timeout=30)
    # t1 (150.00) crossed: its leg of 166 fills at 150.35; the stop trails to the average fill.
    await stack.client.send_price(campaign_id, bar("150.35", "150.50", "150.20", "150.40", 60))
    target_id = f"{campaign_id}:SPRING:TARGET_1"
    await _placed(fake, target_id)
    fake.fill(target_id, D(166), D("150.35"))
    await eventually(lambda: position_is(D(167), D("148.46996997")), timeout=30)
    # The price falls through breakeven: the other 167 are sold at 148.04.
    await stack.client.send_price(campaign_id, tick("148.04", 120))
    stop_id = f"{campaign_id}:SPRING:STOP"
    await _placed(fake, stop_id)
    fake.fill(stop_id, D(167), D("148.04"))

    async def closed() -> bool:
        state = await stack.client.status(campaign_id)
        return state is not None and state.closed_at is not None

    await eventually(closed, timeout=30)
    state = await stack.client.status(campaign_id)
    assert state is not None
    assert state.realized_pnl == D("240.28")  # 166 x 150.35 + 167 x 148.04 - 49,440.50
    assert state.status is CampaignStatus.COMPLETED
    assert fake.book.positions.get("AAPL") is None  # flat at the broker


async def test_a_partly_filled_entry_then_a_break_of_the_range_ends_invalidated_and_flat(
    alpaca: AlpacaStack,
) -> None:
    """The issue's other run: 20 shares of the entry filled, the price broke the range. Alpaca
    acknowledges the entry's cancel first (pending_cancel) and refuses a market sell beside
    it; the sell goes out once the cancel is confirmed, and nothing is left held."""
    stack, worker, fake = alpaca.stack, alpaca.worker, alpaca.fake
    fake.book.cancel_confirm_after = 0.3
    worker.start()

    async def stream_connected() -> bool:
        return fake.listening >= 1

    await eventually(stream_connected, timeout=60)
    plan = await stack.client.submit(signal(Pattern.SPRING))
    campaign_id = plan.campaign_id
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    await _placed(fake, entry_id)
    fake.fill(entry_id, D(20), D("148.50"))

    async def holds(shares: Decimal) -> bool:
        state = await stack.client.status(campaign_id)
        spring = state.position_for(Pattern.SPRING) if state is not None else None
        return spring is not None and spring.open_shares == shares

    await eventually(lambda: holds(D(20)), timeout=30)
    await stack.client.send_price(campaign_id, bar("147.50", "147.60", "146.50", "146.80", 60))
    sell_id = f"{campaign_id}:SPRING:INVALIDATION"
    await _placed(fake, sell_id)
    assert fake.order(entry_id)["status"] == "canceled"  # confirmed before the sell went
    fake.fill(sell_id, D(20), D("146.90"))

    async def flat() -> bool:
        state = await stack.client.status(campaign_id)
        return (
            state is not None
            and state.status is CampaignStatus.INVALIDATED
            and state.closed_at is not None
        )

    await eventually(flat, timeout=30)
    assert fake.book.positions.get("AAPL") is None
    posted = [r for r in fake.requests if r.method == "POST" and r.path == "/v2/orders"]
    assert len(posted) == 2  # the entry and the one sell: nothing refused, nothing retried
