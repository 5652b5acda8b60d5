"""The paper and the simulated broker refuse a fill outside the bar that triggered the order
(SPEC section 11): the order ends REJECTED with the reason, nothing fills, the position at the
broker is unchanged. The same exit inside its bar fills."""

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.brokers.protocol import Broker
from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.orders import Order
from campaign_engine.domain.types import PriceValue
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus, Pattern
from campaign_engine.testing.builders import Book, bar, signal

D = Decimal


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    yield engine
    await engine.dispose()


def _stop_exit() -> Order:
    """The exit a campaign places on a bar that gapped through its SPRING's stop (147.00,
    which is also the range's invalidation level): the bar opens at 146.90 (high 147.20, low
    146.80), the exit is expected to fill at the open."""
    book = Book()  # the entry fills at once, at 148.50
    assert book.submit(signal(Pattern.SPRING)).approved
    book.fill_orders = False
    outcome = book.price(bar("146.90", "147.20", "146.80", "146.90", 5))
    (stop,) = outcome.orders
    assert stop.purpose is OrderPurpose.INVALIDATION
    assert (stop.bar_low, stop.bar_high, stop.expected_price) == (
        D("146.8"),
        D("147.2"),
        D("146.9"),
    )
    return stop


def _brokers(engine: AsyncEngine) -> list[Broker]:
    return [PaperBroker(engine), SimBroker(engine, SimConfig())]


@pytest.mark.parametrize("which", ["paper", "sim"])
async def test_a_fill_outside_the_triggering_bar_is_refused(
    engine: AsyncEngine, which: str
) -> None:
    broker = _brokers(engine)[0 if which == "paper" else 1]
    stop = _stop_exit()
    # The bad tick: a price the bar never traded at.
    bad = replace(
        stop,
        client_order_id=f"{stop.client_order_id}:{which}-bad",
        expected_price=PriceValue(D("0.000000001")),
    )
    refused = await broker.submit(bad)
    assert refused.status is OrderStatus.REJECTED
    assert refused.fills == () and refused.filled_quantity == D(0)
    assert refused.reason == (
        "fill price 0.000000001 is outside the bar that triggered the order "
        "(low 146.80, high 147.20)"
    )

    inside = replace(stop, client_order_id=f"{stop.client_order_id}:{which}-good")
    filled = await broker.submit(inside)
    assert filled.status is not OrderStatus.REJECTED
    assert [f.price for f in filled.fills] == [D("146.9")]


async def test_an_order_no_bar_triggered_is_not_checked(engine: AsyncEngine) -> None:
    """An entry is placed on a signal, at its own price: no bar, no range to hold it to."""
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SOS))
    (order,) = book.orders
    assert (order.bar_low, order.bar_high) == (None, None)
    placed = await PaperBroker(engine).submit(
        replace(order, client_order_id=f"{order.client_order_id}:guard")
    )
    assert placed.status is OrderStatus.FILLED
