"""The Alpaca broker against a local server that answers as Alpaca's documented API does
(campaign_engine/testing/fake_alpaca): orders keyed by client order id, refusals, fills per
execution from the stream and from the account's activities, cancels racing fills, rate limits."""

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from campaign_engine.brokers.alpaca.broker import AlpacaBroker
from campaign_engine.brokers.alpaca.stream import TradeUpdatesListener
from campaign_engine.brokers.alpaca.transport import AlpacaUnavailable
from campaign_engine.brokers.protocol import UnknownBrokerOrder
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderStatus
from campaign_engine.testing.alpaca import (
    CAMPAIGN,
    ENTRY,
    RecordingSink,
    config_for,
    entry_order,
    listening,
)
from campaign_engine.testing.fake_alpaca import SECRET, FakeAlpaca, serving
from tests.support.harness import eventually

D = Decimal


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpaca]:
    async with serving(FakeAlpaca()) as served:
        yield served


@pytest.fixture
async def broker(fake: FakeAlpaca) -> AsyncIterator[AlpacaBroker]:
    async with AlpacaBroker(config_for(fake)) as alpaca:
        yield alpaca


def _posts(fake: FakeAlpaca) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


# --- placing ---------------------------------------------------------------------------------


async def test_an_order_is_placed_under_our_client_order_id_with_exact_numbers(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    placed = await broker.submit(entry_order(quantity="333", limit="150.10"))
    assert (placed.client_order_id, placed.status, placed.filled_quantity) == (
        ENTRY,
        OrderStatus.OPEN,
        D(0),
    )
    at_alpaca = fake.order(ENTRY)
    assert (at_alpaca["qty"], at_alpaca["limit_price"]) == ("333", "150.1")
    assert (at_alpaca["side"], at_alpaca["type"], at_alpaca["time_in_force"]) == (
        "buy",
        "limit",
        "gtc",
    )


async def test_a_submit_whose_answer_was_lost_finds_the_order_it_placed(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    fake.lose_next_answer("POST", "/v2/orders")
    with pytest.raises(AlpacaUnavailable):
        await broker.submit(entry_order())  # placed, but the answer never came
    fake.fill(ENTRY, D(100), D("149.95"))

    # The activity retries: Alpaca answers 422 "client_order_id must be unique".
    again = await broker.submit(entry_order())

    assert len(fake.book.orders) == 1 and _posts(fake) == 2
    assert again.status is OrderStatus.OPEN and again.filled_quantity == D(100)
    assert [(f.fill_id, f.quantity, f.price) for f in again.fills] == [
        (f"{ENTRY}:fill:100", D(100), D("149.95"))
    ]


async def test_a_client_order_id_taken_by_another_order_is_not_taken_for_ours(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(entry_order(quantity="10"))
    answer = await broker.submit(entry_order(quantity="333"))
    assert answer.status is OrderStatus.REJECTED
    assert answer.reason is not None and "already used" in answer.reason
    assert D(fake.order(ENTRY)["qty"]) == 10


async def test_an_order_alpaca_refuses_comes_back_rejected_with_its_reason(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    fake.book.buying_power = D(1000)
    refused = await broker.submit(entry_order())
    assert (refused.status, refused.filled_quantity, refused.reason) == (
        OrderStatus.REJECTED,
        D(0),
        "insufficient buying power",
    )
    exit_id = f"{CAMPAIGN}:SPRING:STOP"
    unheld = await broker.submit(
        entry_order(exit_id, limit=None, side=OrderSide.SELL, purpose=OrderPurpose.STOP)
    )
    assert unheld.status is OrderStatus.REJECTED
    assert unheld.reason == "insufficient qty available for order (requested: 333, available: 0)"
    assert fake.book.orders == {}


async def test_an_order_rejected_after_acceptance_is_rejected(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(entry_order())
    fake.reject(ENTRY)
    report = await broker.get_order(ENTRY)
    assert (report.status, report.reason) == (OrderStatus.REJECTED, "rejected by Alpaca")


# --- fills -----------------------------------------------------------------------------------


async def test_partial_fills_and_the_fill_reach_the_campaign_once_each_by_the_stream(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    sink = RecordingSink()
    async with listening(fake, broker, sink):
        await broker.submit(entry_order())
        fake.fill(ENTRY, D(100), D("150.00"))
        fake.fill(ENTRY, D(200), D("149.98"))
        fake.fill(ENTRY, D(33), D("149.90"))
        await eventually(lambda: _count(sink, 3))
        await asyncio.sleep(0.2)  # nothing more comes

    assert [campaign for campaign, _ in sink.deliveries] == [CAMPAIGN] * 3  # "new" is not sent
    first, second, last = sink.updates
    assert (first.status, first.filled_quantity) == (OrderStatus.OPEN, D(100))
    assert [f.fill_id for f in first.fills] == [f"{ENTRY}:fill:100"]
    assert [(f.quantity, f.price) for f in second.fills] == [(D(200), D("149.98"))]
    assert second.fills[0].fill_id == f"{ENTRY}:fill:300"
    # The end carries every fill of the order.
    assert (last.status, last.filled_quantity) == (OrderStatus.FILLED, D(333))
    assert [f.fill_id for f in last.fills] == [
        f"{ENTRY}:fill:100",
        f"{ENTRY}:fill:300",
        f"{ENTRY}:fill:333",
    ]
    # A poll names the same executions alike, so one learned both ways is booked once.
    polled = await broker.get_order(ENTRY)
    assert polled.fills == last.fills
    assert await broker.position("AAPL") == D(333)


async def test_fills_missed_while_the_stream_was_down_come_with_the_order_end(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    sink = RecordingSink()
    async with listening(fake, broker, sink, first_backoff=0.3) as listener:
        await broker.submit(entry_order())
        fake.drop_streams()
        await eventually(lambda: _false(listener.listening.is_set()))
        fake.fill(ENTRY, D(100), D("150.00"))  # nobody listens: Alpaca does not replay it
        await eventually(lambda: _true(listener.listening.is_set()))
        fake.fill(ENTRY, D(233), D("149.50"))
        await eventually(lambda: _count(sink, 1))

    assert listener.connections == 2
    (filled,) = sink.updates
    assert filled.status is OrderStatus.FILLED
    assert [(f.fill_id, f.quantity) for f in filled.fills] == [
        (f"{ENTRY}:fill:100", D(100)),
        (f"{ENTRY}:fill:333", D(233)),
    ]


async def test_orders_the_engine_did_not_place_are_not_pushed_to_any_campaign(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    sink = RecordingSink()
    async with listening(fake, broker, sink):
        fake.book.place(
            {"symbol": "AAPL", "qty": "5", "side": "buy", "type": "market", "time_in_force": "day"}
        )
        (by_hand,) = fake.book.by_client_id
        fake.fill(by_hand, price=D("150.00"))
        await broker.submit(entry_order())
        fake.fill(ENTRY, D(333), D("150.00"))
        await eventually(lambda: _count(sink, 1))
        await asyncio.sleep(0.2)
    assert [update.client_order_id for update in sink.updates] == [ENTRY]


async def test_expired_and_cancelled_orders_end_with_the_fills_they_had(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    sink = RecordingSink()
    other = f"{CAMPAIGN}:SOS:ENTRY"
    async with listening(fake, broker, sink):
        await broker.submit(entry_order())
        await broker.submit(entry_order(other, quantity="50"))
        fake.fill(ENTRY, D(100), D("150.00"))
        fake.expire(ENTRY)
        cancelled = await broker.cancel(other)
        await eventually(lambda: _count(sink, 3))

    partial, expired, stream_cancelled = sink.updates
    assert partial.status is OrderStatus.OPEN
    assert (expired.status, expired.filled_quantity) == (OrderStatus.EXPIRED, D(100))
    assert expired.reason == "expired at Alpaca (time in force gtc)"
    assert [f.fill_id for f in expired.fills] == [f"{ENTRY}:fill:100"]
    assert (cancelled.status, cancelled.reason) == (OrderStatus.CANCELLED, "canceled at Alpaca")
    assert stream_cancelled == cancelled


async def test_a_cancel_that_loses_the_race_to_a_fill_reports_the_fill(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    await broker.submit(entry_order())
    fake.fill(ENTRY, D(100), D("150.00"))
    # The rest fills while the cancel is on its way: Alpaca answers 422 "not cancelable".
    fake.before_next("DELETE", "/v2/orders/", lambda: fake.fill(ENTRY, D(233), D("149.90")))

    answer = await broker.cancel(ENTRY)

    assert (answer.status, answer.filled_quantity) == (OrderStatus.FILLED, D(333))
    assert [f.quantity for f in answer.fills] == [D(100), D(233)]
    assert fake.order(ENTRY)["status"] == "filled"


@pytest.mark.parametrize("status", [400, 409])
async def test_a_taken_client_order_id_is_known_by_code_and_message_on_any_4xx(
    fake: FakeAlpaca, broker: AlpacaBroker, status: int
) -> None:
    """Issue 22: a duplicate answered with another 4xx than 422 is still "already placed"."""
    fake.book.duplicate_status = status
    fake.lose_next_answer("POST", "/v2/orders")
    with pytest.raises(AlpacaUnavailable):
        await broker.submit(entry_order())  # placed, but the answer never came
    fake.fill(ENTRY, D(100), D("149.95"))

    again = await broker.submit(entry_order())

    assert len(fake.book.orders) == 1 and _posts(fake) == 2
    assert (again.status, again.filled_quantity) == (OrderStatus.OPEN, D(100))


async def test_an_order_alpaca_does_not_know_is_unknown(broker: AlpacaBroker) -> None:
    with pytest.raises(UnknownBrokerOrder):
        await broker.get_order("nobody:SPRING:ENTRY")
    with pytest.raises(UnknownBrokerOrder):
        await broker.cancel("nobody:SPRING:ENTRY")


async def test_no_position_is_zero_shares(broker: AlpacaBroker) -> None:
    assert await broker.position("MSFT") == 0


# --- rate limits and failures ----------------------------------------------------------------


async def test_a_429_is_waited_out_as_alpaca_asks(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    await broker.submit(entry_order())
    fake.rate_limit_next("GET", "/v2/orders:by_client_order_id", retry_after="1")

    report = await broker.get_order(ENTRY)

    assert report.status is OrderStatus.OPEN
    asked = [r for r in fake.requests if r.path == "/v2/orders:by_client_order_id"]
    assert len(asked) == 2
    assert asked[1].at - asked[0].at >= 0.95  # Retry-After: 1


async def test_a_429_without_retry_after_waits_until_the_rate_limit_resets(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """Alpaca's 429 names no Retry-After, only ``X-RateLimit-Reset`` (epoch seconds): the
    next request waits until then."""
    await broker.submit(entry_order())
    fake.rate_limit_next("GET", "/v2/orders:by_client_order_id", retry_after=None, reset_in=2)

    report = await broker.get_order(ENTRY)

    assert report.status is OrderStatus.OPEN
    asked = [r for r in fake.requests if r.path == "/v2/orders:by_client_order_id"]
    assert len(asked) == 2
    assert asked[1].at - asked[0].at >= 1.0  # the reset was 2 whole seconds ahead


async def test_still_rate_limited_after_backing_off_raises_for_a_retry(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    for _ in range(3):
        fake.rate_limit_next("GET", "/v2/positions/", retry_after="0")
    with pytest.raises(AlpacaUnavailable, match="rate-limited"):
        await broker.position("AAPL")


async def test_failing_to_reach_alpaca_raises_for_a_retry(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    fake.fail_next("POST", "/v2/orders")
    with pytest.raises(AlpacaUnavailable, match="503"):
        await broker.submit(entry_order())
    async with AlpacaBroker(config_for(fake, base_url="http://127.0.0.1:9")) as nowhere:
        with pytest.raises(AlpacaUnavailable):
            await nowhere.get_order(ENTRY)


async def test_wrong_keys_are_refused_on_both_channels(fake: FakeAlpaca) -> None:
    config = config_for(fake, secret_key="wrong")
    async with AlpacaBroker(config) as wrong:
        with pytest.raises(AlpacaUnavailable, match="401"):
            await wrong.submit(entry_order())
        sink = RecordingSink()
        async with TradeUpdatesListener(config, wrong, sink, first_backoff=0.05) as listener:
            await eventually(lambda: _true(fake.stream_connections >= 1))
            await asyncio.sleep(0.2)
            assert not listener.listening.is_set()
            assert fake.stream_connections == 1  # refused keys wait the longest back-off


async def _count(sink: RecordingSink, n: int) -> bool:
    return len(sink.deliveries) >= n


async def _true(value: bool) -> bool:
    return value


async def _false(value: bool) -> bool:
    return not value


async def test_the_secret_never_reaches_the_logs_even_at_debug(
    fake: FakeAlpaca, broker: AlpacaBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sink = RecordingSink()
    async with listening(fake, broker, sink):
        await broker.submit(entry_order())
        fake.fill(ENTRY, D(333), D("150.00"))
        await eventually(lambda: _count(sink, 1))
    assert caplog.records  # the libraries did log, at debug
    pieces = {SECRET[i : i + 8] for i in range(len(SECRET) - 7)}
    assert not [piece for piece in pieces if piece in caplog.text]
