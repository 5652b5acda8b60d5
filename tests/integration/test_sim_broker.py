"""The simulated broker against PostgreSQL: entries rest and fill in parts over bars, a bar
never matches an order twice (two processes may see it), exits fill their first part at once,
refusals by buying power and by rate, cancels that keep fills or lose the race, idempotent
submits and the position."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.protocol import UnknownBrokerOrder
from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.brokers.sim.exchange import SimExchange
from campaign_engine.brokers.sim.refusals import draw
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import broker_orders
from campaign_engine.domain.orders import BrokerOrder, Order
from campaign_engine.domain.types import MoneyValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderStatus, OrderType
from campaign_engine.testing.builders import T0, bar

D = Decimal
CAMPAIGN = "AAPL-2024-10-15"
HALF = SimConfig(fill_fraction=D("0.5"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=4)
    yield engine
    await engine.dispose()


class Pushes:
    """An ``OrderUpdates`` sink that keeps what it was given."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, BrokerOrder]] = []

    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None:
        self.delivered.append((campaign_id, update))


def entry(
    *,
    campaign: str = CAMPAIGN,
    quantity: str = "333",
    limit: str = "148.50",
    symbol: str = "AAPL",
    minutes: int = 0,
) -> Order:
    return Order(
        client_order_id=f"{campaign}:SPRING:ENTRY",
        campaign_id=campaign,
        position_id=uuid4(),
        symbol=symbol,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        purpose=OrderPurpose.ENTRY,
        quantity=QuantityValue(D(quantity)),
        limit_price=PriceValue(D(limit)),
        expected_price=PriceValue(D(limit)),
        created_at=T0 + timedelta(minutes=minutes),
        correlation_id="signal",
    )


def exit_order(
    purpose: OrderPurpose, *, quantity: str, expected: str, limit: str | None, minutes: int
) -> Order:
    return Order(
        client_order_id=f"{CAMPAIGN}:SPRING:{purpose.value}",
        campaign_id=CAMPAIGN,
        position_id=uuid4(),
        symbol="AAPL",
        side=OrderSide.SELL,
        order_type=OrderType.LIMIT if limit else OrderType.MARKET,
        purpose=purpose,
        quantity=QuantityValue(D(quantity)),
        limit_price=PriceValue(D(limit)) if limit else None,
        expected_price=PriceValue(D(expected)),
        created_at=T0 + timedelta(minutes=minutes),
        correlation_id="price",
    )


def parts(order: BrokerOrder) -> list[tuple[str, Decimal, Decimal]]:
    return [(f.fill_id.rsplit(":", 1)[1], f.quantity, f.price) for f in order.fills]


async def test_an_entry_rests_then_fills_in_parts_over_the_bars_that_trade_through_it(
    engine: AsyncEngine,
) -> None:
    broker, pushes = SimBroker(engine, HALF), Pushes()
    exchange = SimExchange(engine, HALF, pushes)
    placed = await broker.submit(entry())
    assert (placed.status, placed.filled_quantity, placed.fills) == (OrderStatus.OPEN, D(0), ())

    await exchange.on_bar(bar("148.00", "148.80", "147.90", "148.20", 0))  # the signal's own bar
    await exchange.on_bar(bar("149.00", "149.50", "148.60", "149.20", 60))  # stays above 148.50
    assert pushes.delivered == []

    through = bar("149.00", "149.50", "148.10", "148.70", 120)
    await exchange.on_bar(through)
    await exchange.on_bar(through)  # the same bar again: matched already
    await SimExchange(engine, HALF, pushes).on_bar(through)  # and by another process
    await exchange.on_bar(bar("148.00", "148.40", "147.70", "148.10", 180))  # opens below
    await exchange.on_bar(bar("148.60", "148.90", "148.40", "148.80", 240))
    await exchange.on_bar(bar("148.00", "148.40", "147.70", "148.10", 300))  # nothing left

    assert [campaign for campaign, _ in pushes.delivered] == [CAMPAIGN] * 3
    last = pushes.delivered[-1][1]
    assert (last.status, last.filled_quantity) == (OrderStatus.FILLED, D(333))
    assert parts(last) == [
        ("1", D(166), D("148.50")),
        ("2", D(166), D("148.00")),
        ("3", D(1), D("148.50")),
    ]
    assert [f.filled_at for f in last.fills] == [T0 + timedelta(minutes=m) for m in (120, 180, 240)]
    assert [p.filled_quantity for _, p in pushes.delivered] == [D(166), D(332), D(333)]
    assert await broker.get_order(last.client_order_id) == last
    assert await broker.fills(last.client_order_id) == last.fills
    assert await broker.position("AAPL") == D(333)


async def test_a_bar_two_processes_match_at_once_fills_once(engine: AsyncEngine) -> None:
    broker = SimBroker(engine, HALF)
    await broker.submit(entry())
    through = bar("149.00", "149.50", "148.10", "148.70", 60)
    first, second = SimExchange(engine, HALF, Pushes()), SimExchange(engine, HALF, Pushes())
    results = await asyncio.gather(*(e.match(through) for e in (first, second, first, second)))
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    order = await broker.get_order(entry().client_order_id)
    assert parts(order) == [("1", D(166), D("148.50"))]


async def test_an_exit_fills_its_first_part_at_once_and_the_rest_on_later_bars(
    engine: AsyncEngine,
) -> None:
    broker, pushes = SimBroker(engine, HALF), Pushes()
    exchange = SimExchange(engine, HALF, pushes)
    # A stop crossed by a bar that gapped through it (the SPEC price: the open, 146.10) and the
    # first target's leg (166 at 150.00), both on the bar at +60 minutes.
    stop = exit_order(OrderPurpose.STOP, quantity="167", expected="146.10", limit=None, minutes=60)
    target = exit_order(
        OrderPurpose.TARGET_1, quantity="166", expected="150.00", limit="150.00", minutes=60
    )
    placed_stop, placed_target = await broker.submit(stop), await broker.submit(target)
    assert (placed_stop.status, parts(placed_stop)) == (
        OrderStatus.OPEN,
        [("1", D(83), D("146.10"))],
    )
    assert placed_stop.fills[0].filled_at == stop.created_at
    assert parts(placed_target) == [("1", D(83), D("150.00"))]

    await exchange.on_bar(bar("146.10", "146.50", "145.00", "146.20", 60))  # its own bar
    assert pushes.delivered == []
    await exchange.on_bar(bar("149.00", "149.90", "148.00", "149.50", 120))  # below the target
    ((_, stop_now),) = pushes.delivered
    assert parts(stop_now)[1:] == [("2", D(83), D("149.00"))]  # a market order: the open
    await exchange.on_bar(bar("150.40", "151.00", "150.10", "150.80", 180))  # opens above
    by_id = {u.client_order_id: u for _, u in pushes.delivered}
    assert parts(by_id[stop.client_order_id])[2:] == [("3", D(1), D("150.40"))]
    assert by_id[stop.client_order_id].status is OrderStatus.FILLED
    assert parts(by_id[target.client_order_id])[1:] == [("2", D(83), D("150.40"))]
    assert by_id[target.client_order_id].status is OrderStatus.FILLED
    assert await broker.position("AAPL") == D(-333)  # sold what this book never bought


async def test_a_buy_past_the_buying_power_is_rejected_with_the_reason(
    engine: AsyncEngine,
) -> None:
    config = SimConfig(fill_fraction=D("0.5"), buying_power=MoneyValue(D("60000")))
    broker = SimBroker(engine, config)
    exchange = SimExchange(engine, config, Pushes())
    first = await broker.submit(entry())  # 333 at 148.50: 49,450.50 of 60,000
    assert first.status is OrderStatus.OPEN
    await exchange.on_bar(bar("148.00", "148.40", "147.70", "148.10", 60))  # 166 at 148.00
    # Committed: 166 held at 148.00 (24,568) and 167 resting at 148.50 (24,799.50).
    msft = entry(campaign="MSFT-2024-10-15", symbol="MSFT", quantity="100", limit="107.00")
    refused = await broker.submit(msft)
    assert refused == BrokerOrder(
        client_order_id=msft.client_order_id,
        status=OrderStatus.REJECTED,
        filled_quantity=D(0),
        reason="insufficient buying power: 10700 for this order and 49367.5 committed exceed 60000",
    )
    assert await broker.submit(msft) == refused  # the id stays refused
    fits = entry(campaign="NVDA-2024-10-15", symbol="NVDA", quantity="100", limit="106.00")
    assert (await broker.submit(fits)).status is OrderStatus.OPEN  # 10,600: exactly 59,967.50
    # A rejected order never fills.
    await SimExchange(engine, config, Pushes()).on_bar(
        bar("100.00", "101.00", "99.00", "100.00", 60, symbol="MSFT")
    )
    assert (await broker.get_order(msft.client_order_id)).fills == ()


async def test_the_reject_rate_refuses_the_orders_its_seed_draws(engine: AsyncEngine) -> None:
    config = SimConfig(reject_rate=D("0.5"), seed="scenario-1")
    broker = SimBroker(engine, config)
    orders = [entry(campaign=f"S{n}-2024-10-15", symbol=f"S{n}") for n in range(12)]
    answers = [await broker.submit(o) for o in orders]
    expected = [draw(o.client_order_id, "scenario-1") < D("0.5") for o in orders]
    assert [a.status is OrderStatus.REJECTED for a in answers] == expected
    assert 0 < sum(expected) < len(expected)  # the seed refuses some, not all
    for answer, refused in zip(answers, expected, strict=True):
        if refused:
            assert answer.reason == "rejected by simulation (rate 0.5)"
    stop = exit_order(OrderPurpose.STOP, quantity="10", expected="146", limit=None, minutes=1)
    rejected_exit = await SimBroker(engine, SimConfig(reject_rate=D(1))).submit(stop)
    assert (rejected_exit.status, rejected_exit.fills) == (OrderStatus.REJECTED, ())


async def test_a_cancel_keeps_the_fills_and_one_after_the_fill_answers_filled(
    engine: AsyncEngine,
) -> None:
    broker, exchange = SimBroker(engine, HALF), SimExchange(engine, HALF, Pushes())
    order = entry()
    await broker.submit(order)
    await exchange.on_bar(bar("149.00", "149.50", "148.10", "148.70", 60))
    cancelled = await broker.cancel(order.client_order_id)
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, D(166))
    assert parts(cancelled) == [("1", D(166), D("148.50"))]
    await exchange.on_bar(bar("148.00", "148.40", "147.70", "148.10", 120))  # no longer open
    assert await broker.get_order(order.client_order_id) == cancelled
    assert await broker.cancel(order.client_order_id) == cancelled

    whole = entry(campaign="MSFT-2024-10-15", symbol="MSFT", quantity="10", limit="100")
    await SimBroker(engine, SimConfig()).submit(whole)
    await SimExchange(engine, SimConfig(), Pushes()).on_bar(
        bar("100.00", "101.00", "99.00", "100.00", 60, symbol="MSFT")
    )
    lost_race = await broker.cancel(whole.client_order_id)
    assert (lost_race.status, lost_race.filled_quantity) == (OrderStatus.FILLED, D(10))

    with pytest.raises(UnknownBrokerOrder):
        await broker.cancel("NOPE-2024-01-01:SPRING:ENTRY")
    with pytest.raises(UnknownBrokerOrder):
        await broker.get_order("NOPE-2024-01-01:SPRING:ENTRY")


async def test_a_cancel_racing_a_bar_either_wins_whole_or_answers_the_fill(
    engine: AsyncEngine,
) -> None:
    broker, exchange = SimBroker(engine, SimConfig()), SimExchange(engine, SimConfig(), Pushes())
    order = entry()
    await broker.submit(order)
    through = bar("149.00", "149.50", "148.10", "148.70", 60)
    answer, _ = await asyncio.gather(broker.cancel(order.client_order_id), exchange.match(through))
    stored = await broker.get_order(order.client_order_id)
    assert answer == stored
    assert (stored.status, stored.filled_quantity) in {
        (OrderStatus.CANCELLED, D(0)),
        (OrderStatus.FILLED, D(333)),
    }


async def test_submitting_an_order_again_places_nothing_twice(engine: AsyncEngine) -> None:
    broker = SimBroker(engine, HALF)
    stop = exit_order(OrderPurpose.STOP, quantity="100", expected="146", limit=None, minutes=1)
    first = await broker.submit(stop)
    answers = await asyncio.gather(*(broker.submit(stop) for _ in range(4)))
    assert all(a == first for a in answers)
    assert parts(first) == [("1", D(50), D("146"))]
    async with engine.connect() as conn:
        rows = await conn.scalar(select(func.count()).select_from(broker_orders))
    assert rows == 1


async def test_the_position_is_what_filled_bought_less_sold(engine: AsyncEngine) -> None:
    config = SimConfig()
    broker, exchange = SimBroker(engine, config), SimExchange(engine, config, Pushes())
    await broker.submit(entry())
    assert await broker.position("AAPL") == D(0)  # resting: nothing held yet
    await exchange.on_bar(bar("149.00", "149.50", "148.10", "148.70", 60))
    await broker.submit(
        exit_order(
            OrderPurpose.TARGET_1, quantity="166", expected="150.00", limit="150.00", minutes=120
        )
    )
    assert await broker.position("AAPL") == D(167)
    assert await broker.position("MSFT") == D(0)


async def test_the_wash_trade_rule_refuses_a_sell_that_could_trade_against_an_open_buy(
    engine: AsyncEngine,
) -> None:
    """As Alpaca: a market sell (or a sell limit at or below the buy's limit) is refused while
    a buy on the symbol is open, a cancel acknowledged but not confirmed included; a target
    above the buy's limit is not."""
    config = SimConfig(fill_fraction=D("0.5"), wash_trade_rule=True, pending_cancels=True)
    broker, exchange = SimBroker(engine, config), SimExchange(engine, config, Pushes())
    buy = entry()
    await broker.submit(buy)
    await exchange.on_bar(bar("149.00", "149.50", "148.10", "148.70", 60))  # 166 bought
    stop = exit_order(OrderPurpose.STOP, quantity="166", expected="147", limit=None, minutes=61)
    target = exit_order(
        OrderPurpose.TARGET_1, quantity="83", expected="150", limit="150.00", minutes=61
    )
    assert await broker.blocking_buys(stop) == (buy.client_order_id,)
    assert await broker.blocking_buys(target) == ()
    assert (await broker.submit(target)).status is OrderStatus.OPEN

    pending = await broker.cancel(buy.client_order_id)
    assert (pending.status, pending.filled_quantity) == (OrderStatus.OPEN, D(166))  # not yet
    await exchange.on_bar(bar("148.00", "148.40", "147.70", "148.10", 62))  # fills no more
    assert await broker.blocking_buys(stop) == (buy.client_order_id,)
    refused = await broker.submit(stop)
    assert (refused.status, refused.reason) == (
        OrderStatus.REJECTED,
        "potential wash trade detected. use complex orders",
    )

    confirmed = await broker.get_order(buy.client_order_id)  # looked up: the cancel is done
    assert (confirmed.status, confirmed.filled_quantity) == (OrderStatus.CANCELLED, D(166))
    assert await broker.blocking_buys(stop) == ()
    again = exit_order(OrderPurpose.STOP, quantity="83", expected="147", limit=None, minutes=63)
    placed = await broker.submit(replace(again, client_order_id=f"{again.client_order_id}:2"))
    assert placed.status is not OrderStatus.REJECTED
