"""The market-data stand-in (campaign_engine/testing/fake_alpaca_data) against alpaca-py's own
clients, the reference for Alpaca's wire format: its stream client gets published and updated
bars as its ``Bar`` model and reconnects after a drop; its historical clients page through
more bars than one page holds. Raw HTTP covers the endpoints' refusals."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alpaca.data.enums import DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.live import CryptoDataStream, StockDataStream
from alpaca.data.live.websocket import DataStream
from alpaca.data.models import Bar as AlpacaBar
from alpaca.data.models import BarSet
from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from campaign_engine.testing.fake_alpaca_data import KEY_ID, SECRET, Bar, FakeAlpacaData, serving
from tests.support.harness import eventually

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpacaData]:
    async with serving(FakeAlpacaData()) as served:
        yield served


def minute_bars(symbol: str, count: int, start: datetime = T0) -> list[Bar]:
    return [
        Bar(symbol, start + timedelta(minutes=i), 100 + i, 101 + i, 99 + i, 100.5 + i, 10 + i)
        for i in range(count)
    ]


async def running(stream: DataStream, ready: Callable[[], bool]) -> asyncio.Task[None]:
    task = asyncio.create_task(stream._run_forever())
    await until(ready, timeout=10)
    return task


async def stopped(stream: DataStream, task: asyncio.Task[None]) -> None:
    # stop_ws only marks the stream stopped; closing the socket wakes its receive loop.
    await stream.stop_ws()
    await stream.close()
    await asyncio.wait_for(task, timeout=10)


def collecting(got: list[AlpacaBar]) -> Callable[[AlpacaBar | dict[Any, Any]], Awaitable[None]]:
    async def on_bar(bar: AlpacaBar | dict[Any, Any]) -> None:
        assert isinstance(bar, AlpacaBar)  # parsed into alpaca-py's model, not left raw
        got.append(bar)

    return on_bar


async def until(check: Callable[[], bool], timeout: float = 10) -> None:
    async def checked() -> bool:
        return check()

    await eventually(checked, timeout)


# --- the stream, through alpaca-py -------------------------------------------------------------


async def test_alpaca_py_receives_a_published_bar_and_its_correction(fake: FakeAlpacaData) -> None:
    got: list[AlpacaBar] = []
    on_bar = collecting(got)

    stream = StockDataStream(
        KEY_ID, SECRET, feed=DataFeed.IEX, url_override=fake.stock_stream_url()
    )
    stream.subscribe_bars(on_bar, "AAPL")
    stream.subscribe_updated_bars(on_bar, "AAPL")
    task = await running(stream, lambda: bool(fake.subscriptions))
    assert fake.subscriptions[0]["bars"] == ["AAPL"]
    assert fake.subscriptions[0]["updatedBars"] == ["AAPL"]

    fake.publish_bar("MSFT", T0, open=1, high=1, low=1, close=1, volume=1)  # not subscribed
    fake.publish_bar(
        "AAPL", T0, open=180.1, high=180.9, low=179.8, close=180.5, volume=1200, trades=31
    )
    fake.publish_bar(
        "AAPL", T0, open=180.1, high=181.0, low=179.8, close=180.7, volume=1300, trades=32, kind="u"
    )
    await until(lambda: len(got) == 2, timeout=10)
    await stopped(stream, task)

    first, corrected = got
    assert (first.symbol, first.timestamp, first.open, first.high, first.low) == (
        "AAPL",
        T0,
        180.1,
        180.9,
        179.8,
    )
    assert (first.close, first.volume, first.trade_count) == (180.5, 1200, 31)
    assert (corrected.close, corrected.volume) == (180.7, 1300)
    assert fake.history.bars("AAPL")[0].close == 180.7  # the correction replaced history


async def test_alpaca_py_reconnects_and_resubscribes_after_the_connection_drops(
    fake: FakeAlpacaData,
) -> None:
    got: list[AlpacaBar] = []
    on_bar = collecting(got)

    stream = StockDataStream(KEY_ID, SECRET, url_override=fake.stock_stream_url("iex"))
    stream.subscribe_bars(on_bar, "*")
    task = await running(stream, lambda: bool(fake.subscriptions))
    fake.drop_connections()
    await until(lambda: fake.connections == 2 and bool(fake.subscriptions), timeout=15)
    fake.publish_bar("SPY", T0, open=500, high=501, low=499, close=500.5, volume=9)
    await until(lambda: len(got) == 1, timeout=10)
    await stopped(stream, task)
    assert got[0].symbol == "SPY"
    assert fake.auths == 2


async def test_alpaca_py_gives_up_on_a_feed_the_subscription_lacks() -> None:
    async with serving(FakeAlpacaData(feeds=["iex"])) as fake:
        on_bar = collecting([])

        stream = StockDataStream(
            KEY_ID, SECRET, feed=DataFeed.SIP, url_override=fake.stock_stream_url("sip")
        )
        stream.subscribe_bars(on_bar, "AAPL")
        # alpaca-py stops for good on 409 "insufficient subscription" (no reconnect loop).
        await asyncio.wait_for(stream._run_forever(), timeout=10)
        assert (fake.connections, fake.subscriptions) == (1, [])


async def test_alpaca_py_crypto_stream_receives_crypto_bars(fake: FakeAlpacaData) -> None:
    got: list[AlpacaBar] = []
    on_bar = collecting(got)

    stream = CryptoDataStream(KEY_ID, SECRET, url_override=fake.crypto_stream_url)
    stream.subscribe_bars(on_bar, "BTC/USD")
    task = await running(stream, lambda: bool(fake.subscriptions))
    assert "orderbooks" in fake.subscriptions[0]
    fake.publish_bar("BTC/USD", T0, open=6e4, high=6.1e4, low=5.9e4, close=6.05e4, volume=0.25)
    await until(lambda: len(got) == 1, timeout=10)
    await stopped(stream, task)
    assert (got[0].symbol, got[0].volume, got[0].timestamp) == ("BTC/USD", 0.25, T0)


# --- history, through alpaca-py ----------------------------------------------------------------


async def test_alpaca_py_pages_through_more_bars_than_one_page_holds(fake: FakeAlpacaData) -> None:
    fake.record_history("AAPL", minute_bars("AAPL", 6000))
    fake.record_history("MSFT", minute_bars("MSFT", 6000))
    fake.record_history("AAPL", minute_bars("AAPL", 5, start=T0 - timedelta(days=1)))  # before
    client = StockHistoricalDataClient(KEY_ID, SECRET, url_override=fake.base_url)
    request = StockBarsRequest(
        symbol_or_symbols=["MSFT", "AAPL"],
        timeframe=TimeFrame.Minute,
        start=T0,
        end=T0 + timedelta(days=10),
        feed=DataFeed.IEX,
    )
    bars = await asyncio.to_thread(client.get_stock_bars, request)
    assert isinstance(bars, BarSet)
    assert [len(bars.data["AAPL"]), len(bars.data["MSFT"])] == [6000, 6000]
    times = [bar.timestamp for bar in bars.data["MSFT"]]
    assert times == sorted(times) and times[0] == T0
    assert len(fake.requests) == 2  # 10,000 bars a page at most, across both symbols


async def test_alpaca_py_gets_five_minute_bars_rolled_up(fake: FakeAlpacaData) -> None:
    fake.record_history("AAPL", minute_bars("AAPL", 10))
    client = StockHistoricalDataClient(KEY_ID, SECRET, url_override=fake.base_url)
    request = StockBarsRequest(
        symbol_or_symbols="AAPL",
        timeframe=TimeFrame(5, TimeFrameUnit.Minute),
        start=T0,
        end=T0 + timedelta(hours=1),
    )
    bars = await asyncio.to_thread(client.get_stock_bars, request)
    assert isinstance(bars, BarSet)
    first, second = bars.data["AAPL"]
    assert (first.timestamp, first.open, first.high, first.low, first.close) == (
        T0,
        100,
        105,
        99,
        104.5,
    )
    assert (first.volume, first.trade_count, second.timestamp) == (60, 5, T0 + timedelta(minutes=5))


async def test_alpaca_py_crypto_history(fake: FakeAlpacaData) -> None:
    fake.record_history("BTC/USD", minute_bars("BTC/USD", 3))
    client = CryptoHistoricalDataClient(url_override=fake.base_url)  # crypto needs no key
    request = CryptoBarsRequest(
        symbol_or_symbols="BTC/USD", timeframe=TimeFrame.Minute, start=T0, end=T0 + timedelta(1)
    )
    bars = await asyncio.to_thread(client.get_crypto_bars, request)
    assert isinstance(bars, BarSet)
    assert [bar.close for bar in bars.data["BTC/USD"]] == [100.5, 101.5, 102.5]


# --- history, raw -----------------------------------------------------------------------------

HEADERS = {"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET}


async def _get(
    fake: FakeAlpacaData, path: str, params: dict[str, str], headers: dict[str, str] = HEADERS
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        return await http.get(path, params=params, headers=headers)


async def test_the_limit_counts_bars_across_symbols_and_pages_by_symbol(
    fake: FakeAlpacaData,
) -> None:
    fake.record_history("AAPL", minute_bars("AAPL", 3))
    fake.record_history("MSFT", minute_bars("MSFT", 3))
    window = {"start": "2024-03-04T14:31:00Z", "end": "2024-03-04T14:32:00Z", "timeframe": "1Min"}
    query = {"symbols": "MSFT,AAPL", "limit": "3", **window}
    first = (await _get(fake, "/v2/stocks/bars", query)).json()
    assert [b["t"] for b in first["bars"]["AAPL"]] == [
        "2024-03-04T14:31:00Z",
        "2024-03-04T14:32:00Z",
    ]
    assert [b["t"] for b in first["bars"]["MSFT"]] == ["2024-03-04T14:31:00Z"]
    assert set(first["bars"]["AAPL"][0]) == {"t", "o", "h", "l", "c", "v", "n", "vw"}
    token = first["next_page_token"]
    second = (await _get(fake, "/v2/stocks/bars", {**query, "page_token": token})).json()
    assert [b["t"] for b in second["bars"]["MSFT"]] == ["2024-03-04T14:32:00Z"]
    assert (set(second["bars"]), second["next_page_token"]) == ({"MSFT"}, None)
    single = (await _get(fake, "/v2/stocks/AAPL/bars", {**window, "sort": "desc"})).json()
    assert (single["symbol"], [b["c"] for b in single["bars"]]) == ("AAPL", [102.5, 101.5])


async def test_the_endpoints_refuse_as_documented() -> None:
    async with serving(FakeAlpacaData(feeds=["iex"])) as fake:
        ok = {"symbols": "AAPL", "timeframe": "1Min"}
        wrong = {"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": "nope"}
        unauthorized = await _get(fake, "/v2/stocks/bars", ok, headers=wrong)
        assert (unauthorized.status_code, unauthorized.json()["message"]) == (
            401,
            "request is not authorized",
        )
        sip = await _get(fake, "/v2/stocks/bars", {**ok, "feed": "sip"})
        assert sip.status_code == 403
        for bad in (
            {"timeframe": "7Fortnight"},
            {"limit": "10001"},
            {"start": "yesterday"},
            {"page_token": "xx"},
        ):
            answer = await _get(fake, "/v2/stocks/bars", {**ok, **bad})
            assert answer.status_code == 422 and set(answer.json()) == {"code", "message"}, bad
        fake.rate_limit_next("/v2/stocks/bars", retry_after="2")
        limited = await _get(fake, "/v2/stocks/bars", ok)
        assert (
            limited.status_code,
            limited.headers["Retry-After"],
            limited.headers["X-RateLimit-Remaining"],
        ) == (429, "2", "0")
        after = await _get(fake, "/v2/stocks/bars", ok)
        assert (after.status_code, after.json()) == (200, {"bars": {}, "next_page_token": None})
