"""The Alpaca broker's pure parts: Alpaca's statuses in the engine's terms (checked against
alpaca-py, the SDK), fill ids, campaign ids read back from client order ids, the order body,
the request budget and 429 back-off, the settings; and the fake Alpaca's JSON read by the
SDK's own models, so the tests' server speaks Alpaca's shapes."""

from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime

import httpx
import pytest

from campaign_engine.brokers.alpaca.broker import order_request, tick_rounded
from campaign_engine.brokers.alpaca.transport import RequestBudget, backoff_seconds
from campaign_engine.brokers.alpaca.wire import (
    ENDED,
    WORKING,
    AlpacaOrder,
    TradeUpdate,
    campaign_of,
    fill_from_update,
    fill_id,
    loads,
    our_status,
)
from campaign_engine.domain.vocabulary import OrderSide, OrderStatus
from campaign_engine.runtime.settings import SettingsError, load_settings
from campaign_engine.testing.alpaca import ENTRY, entry_order
from campaign_engine.testing.fake_alpaca.book import Book, Json

D = Decimal


def _order(status: str, qty: str = "10", filled: str = "0") -> AlpacaOrder:
    return AlpacaOrder(
        id="o1",
        client_order_id=ENTRY,
        symbol="AAPL",
        side="buy",
        status=status,
        qty=D(qty),
        filled_qty=D(filled),
    )


# The SDK (alpaca-py) is imported by the two tests that read it, not at collection: it imports
# pandas, 3 s of CPU in each of the test command's workers, which all collect every module.


def test_every_alpaca_order_status_is_either_working_or_ended() -> None:
    from alpaca.trading.enums import OrderStatus as SdkOrderStatus

    known = set(WORKING) | set(ENDED)
    assert {s.value for s in SdkOrderStatus} <= known
    assert not set(WORKING) & set(ENDED)


@pytest.mark.parametrize(
    ("status", "filled", "ours"),
    [
        ("new", "0", OrderStatus.OPEN),
        ("partially_filled", "4", OrderStatus.OPEN),
        ("pending_cancel", "4", OrderStatus.OPEN),  # the cancel may still lose to a fill
        ("done_for_day", "4", OrderStatus.OPEN),
        ("filled", "10", OrderStatus.FILLED),
        ("calculated", "10", OrderStatus.FILLED),  # filled in full, whatever the status says
        ("canceled", "4", OrderStatus.CANCELLED),
        ("replaced", "0", OrderStatus.CANCELLED),
        ("expired", "0", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
        ("some_new_status", "0", OrderStatus.OPEN),
    ],
)
def test_alpaca_statuses_in_the_engines_terms(status: str, filled: str, ours: OrderStatus) -> None:
    assert our_status(_order(status, filled=filled)) is ours


def test_a_fill_id_names_the_execution_by_the_cumulative_quantity() -> None:
    assert fill_id(ENTRY, D("100")) == fill_id(ENTRY, D("100.000")) == f"{ENTRY}:fill:100"
    assert fill_id(ENTRY, D("0.50")) == f"{ENTRY}:fill:0.5"


def test_json_numbers_are_read_exactly() -> None:
    assert loads('{"price": 0.1000000000000000055511151231257827}')["price"] == D(
        "0.1000000000000000055511151231257827"
    )


def test_a_fill_event_becomes_one_fill_and_other_events_none() -> None:
    order = _order("partially_filled", filled="4").model_dump()
    stamp = datetime(2024, 10, 15, 14, 31, tzinfo=UTC)
    fill = fill_from_update(
        TradeUpdate.model_validate(
            {
                "event": "partial_fill",
                "order": order,
                "timestamp": stamp,
                "qty": "4",
                "price": "150.01",
            }
        )
    )
    assert fill is not None
    assert (fill.fill_id, fill.quantity, fill.price, fill.filled_at) == (
        f"{ENTRY}:fill:4",
        D(4),
        D("150.01"),
        stamp,
    )
    new = TradeUpdate.model_validate({"event": "new", "order": order, "timestamp": stamp})
    assert fill_from_update(new) is None


@pytest.mark.parametrize(
    ("client_order_id", "campaign"),
    [
        ("AAPL-2024-10-15:SPRING:ENTRY", "AAPL-2024-10-15"),
        ("AAPL-2024-10-15:SOS:TARGET_2:3", "AAPL-2024-10-15"),
        ("desk:a:b:LPS:STOP", "desk:a:b"),
        ("AAPL-2024-10-15:SPRING", None),
        (":SPRING:ENTRY", None),
        ("a1b2c3d4-hand-placed", None),
        ("X:MOON:ENTRY", None),
    ],
)
def test_the_campaign_is_read_back_from_the_client_order_id(
    client_order_id: str, campaign: str | None
) -> None:
    assert campaign_of(client_order_id) == campaign


def test_the_order_body_is_exact_and_rests_until_cancelled() -> None:
    assert order_request(entry_order(quantity="333", limit="150.10")) == {
        "symbol": "AAPL",
        "qty": "333",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": "150.1",
        "client_order_id": ENTRY,
    }
    market = order_request(entry_order(limit=None, side=OrderSide.SELL))
    assert (market["type"], market["time_in_force"], "limit_price" in market) == (
        "market",
        "day",
        False,
    )
    assert order_request(entry_order(quantity="2.5"))["time_in_force"] == "day"  # fractional


def test_a_limit_finer_than_alpacas_tick_never_pays_more() -> None:
    assert tick_rounded(D("150.129"), OrderSide.BUY) == D("150.12")
    assert tick_rounded(D("150.121"), OrderSide.SELL) == D("150.13")
    assert tick_rounded(D("0.123456"), OrderSide.BUY) == D("0.1234")
    assert tick_rounded(D("150.10"), OrderSide.BUY) == D("150.10")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_budget_allows_so_many_requests_in_any_minute() -> None:
    clock = _Clock()
    budget = RequestBudget(3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await budget.acquire()
    assert clock.slept == []
    clock.now = 20.0
    await budget.acquire()  # the 4th waits for the 1st to leave the window
    assert clock.slept == [60.0 - 20.0]
    await budget.acquire()
    assert clock.now == 60.0 and clock.slept == [40.0]  # the 2nd (at 0 too) has left as well


async def test_a_pause_holds_every_request_until_it_ends() -> None:
    clock = _Clock()
    budget = RequestBudget(200, clock=clock, sleep=clock.sleep)
    budget.pause(7.5)
    await budget.acquire()
    assert clock.slept == [7.5]


def _response_429(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(429, headers=headers)


def test_a_429_waits_as_long_as_alpaca_says() -> None:
    now = 1_700_000_000.0
    assert backoff_seconds(_response_429({"Retry-After": "3"}), now) == 3.0
    date = format_datetime(datetime.fromtimestamp(now + 5, UTC), usegmt=True)
    assert backoff_seconds(_response_429({"Retry-After": date}), now) == 5.0
    assert backoff_seconds(_response_429({"X-RateLimit-Reset": str(int(now) + 12)}), now) == 12.0
    assert backoff_seconds(_response_429({}), now) == 1.0
    assert backoff_seconds(_response_429({"Retry-After": "3600"}), now) == 60.0
    assert backoff_seconds(_response_429({"X-RateLimit-Reset": str(int(now) - 5)}), now) == 0.0


def test_the_alpaca_broker_needs_its_keys_and_never_shows_the_secret() -> None:
    with pytest.raises(SettingsError, match="ALPACA_API_KEY_ID: required when BROKER=alpaca"):
        load_settings({"BROKER": "alpaca", "ALPACA_API_SECRET_KEY": "s3cr3t"})
    with pytest.raises(SettingsError, match="ALPACA_API_SECRET_KEY: required"):
        load_settings({"BROKER": "alpaca", "ALPACA_API_KEY_ID": "PK1"})
    settings = load_settings(
        {"BROKER": "alpaca", "ALPACA_API_KEY_ID": "PK1", "ALPACA_API_SECRET_KEY": "s3cr3t"}
    )
    config = settings.alpaca_config()
    assert "s3cr3t" not in repr(settings) + str(settings) + repr(config) + str(config)
    assert (config.trading_url, config.stream_url) == (
        "https://paper-api.alpaca.markets",
        "wss://paper-api.alpaca.markets/stream",
    )
    assert load_settings({}).broker == "paper"  # keys are only needed for Alpaca


def test_live_trading_only_when_asked_and_a_test_server_by_url() -> None:
    keys = {"BROKER": "alpaca", "ALPACA_API_KEY_ID": "PK1", "ALPACA_API_SECRET_KEY": "s"}
    live = load_settings(keys | {"ALPACA_PAPER": "false"}).alpaca_config()
    assert (live.trading_url, live.stream_url) == (
        "https://api.alpaca.markets",
        "wss://api.alpaca.markets/stream",
    )
    local = load_settings(keys | {"ALPACA_BASE_URL": "http://127.0.0.1:8123/"}).alpaca_config()
    assert (local.trading_url, local.stream_url) == (
        "http://127.0.0.1:8123",
        "ws://127.0.0.1:8123/stream",
    )
    with pytest.raises(SettingsError, match="BROKER"):
        load_settings({"BROKER": "interactive"})


def test_the_fake_alpaca_speaks_the_sdks_shapes() -> None:
    from alpaca.trading.enums import OrderStatus as SdkOrderStatus
    from alpaca.trading.models import Order as SdkOrder
    from alpaca.trading.models import Position as SdkPosition
    from alpaca.trading.models import TradeUpdate as SdkTradeUpdate

    events: list[Json] = []
    book = Book(publish=events.append)
    placed = book.place(
        {
            "symbol": "AAPL",
            "qty": "10",
            "side": "buy",
            "type": "limit",
            "time_in_force": "gtc",
            "limit_price": "150.10",
            "client_order_id": ENTRY,
        }
    )
    book.fill(ENTRY, D(4), D("150.00"))
    book.fill(ENTRY, D(6), D("149.90"))
    assert SdkOrder(**placed).status is SdkOrderStatus.FILLED
    assert SdkPosition(**book.position("AAPL")).qty == "10"
    updates = [SdkTradeUpdate(**event) for event in events]
    assert [u.event for u in updates] == ["new", "partial_fill", "fill"]
    assert [AlpacaOrder.model_validate(e["order"]).filled_qty for e in events] == [0, 4, 10]
    assert D(placed["filled_avg_price"]) == D("149.94")
