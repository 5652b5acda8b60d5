"""The Alpaca price feed's stream against the local stand-in of Alpaca's market data
(testing/fake_alpaca_data): bars taken once and in market-time order per symbol, the gap of a
dropped connection (and of the time before the first) filled from history, symbols
subscribed and dropped as wanted, and Alpaca's refusals answered by a log line, a count and a
later retry, never a crash."""

import asyncio
from collections.abc import AsyncIterator, Collection
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.market_data.alpaca_config import AlpacaDataConfig
from campaign_engine.market_data.alpaca_history import AlpacaHistory
from campaign_engine.market_data.alpaca_stream import AlpacaBarStream
from campaign_engine.market_data.alpaca_wire import ErrorKind
from campaign_engine.testing.fake_alpaca_data import KEY_ID, SECRET, Bar, FakeAlpacaData, serving
from tests.support.harness import eventually

T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _bar(symbol: str, minute: int, close: float = 148.5) -> Bar:
    return Bar(symbol, T0 + minute * MINUTE, close, close + 0.5, close - 0.5, close, 100)


class Taken:
    """What the feed hands on, and where each symbol's bars resume from (as the intake
    answers it)."""

    def __init__(self, last: dict[str, datetime]) -> None:
        self.bars: list[PriceUpdate] = []
        self.last = last

    async def take(self, bars: list[PriceUpdate]) -> None:
        self.bars += bars
        for bar in bars:
            self.last[bar.symbol] = bar.as_of

    async def last_taken(self, symbols: Collection[str]) -> dict[str, datetime]:
        return {s: self.last[s] for s in symbols if s in self.last}

    def of(self, symbol: str) -> list[int]:
        """The minutes (after T0) each bar of ``symbol`` ended at, in the order taken."""
        return [int((b.as_of - T0) / MINUTE) for b in self.bars if b.symbol == symbol]


def _errors_metric(kind: ErrorKind) -> float:
    found = REGISTRY.get_sample_value("campaign_market_data_errors_total", {"kind": kind.value})
    return found or 0.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpacaData]:
    async with serving(FakeAlpacaData(feeds=("iex",))) as served:
        yield served


def _config(fake: FakeAlpacaData, **changes: object) -> AlpacaDataConfig:
    values: dict[str, object] = {
        "key_id": KEY_ID,
        "secret_key": SecretStr(SECRET),
        "feed": "iex",
        "data_url": fake.base_url,
        "stream_url": fake.stream_url,
        "timeout_seconds": 5.0,
    }
    return AlpacaDataConfig.model_validate(values | changes)


def _stream(fake: FakeAlpacaData, taken: Taken, **changes: object) -> AlpacaBarStream:
    return AlpacaBarStream(
        _config(fake, **changes), crypto=False, take=taken.take, last_taken=taken.last_taken
    )


async def test_bars_once_in_order_with_every_gap_filled_from_history(
    fake: FakeAlpacaData,
) -> None:
    taken = Taken({"AAPL": T0 + MINUTE})  # the bar of 14:30 was taken before this start
    fake.record_history("AAPL", [_bar("AAPL", 0), _bar("AAPL", 1), _bar("AAPL", 2)])
    stream = _stream(fake, taken)
    stream.want({"AAPL"})
    async with stream:

        async def caught_up() -> bool:
            return taken.of("AAPL") == [2, 3]  # 14:31 and 14:32 from history, 14:30 not again

        await eventually(caught_up)
        fake.publish_bar(
            "AAPL", T0 + 3 * MINUTE, open=149, high=149.5, low=148.5, close=149.25, volume=10
        )

        async def live() -> bool:
            return taken.of("AAPL") == [2, 3, 4]

        await eventually(live)
        fake.drop_connections()
        fake.record_history("AAPL", [_bar("AAPL", 4), _bar("AAPL", 5)])  # while it was down

        async def refilled() -> bool:
            return taken.of("AAPL") == [2, 3, 4, 5, 6] and fake.connections >= 2

        await eventually(refilled)
        fake.publish_bar(
            "AAPL", T0 + 6 * MINUTE, open=150, high=150, low=149, close=149.5, volume=5
        )
        fake.publish_bar(  # 14:35 again, as a stream may resend it: not taken twice
            "AAPL", T0 + 5 * MINUTE, open=150, high=151, low=149, close=150.5, volume=5
        )

        async def newest_only() -> bool:
            return taken.of("AAPL") == [2, 3, 4, 5, 6, 7]  # the replayed 14:35 bar went once

        await eventually(newest_only)
    assert str(taken.bars[-1].close) == "149.5"  # the live 14:36 bar, not the replayed one
    assert stream.bars_taken == 6


async def test_symbols_are_subscribed_and_dropped_as_wanted(fake: FakeAlpacaData) -> None:
    taken = Taken({})
    stream = _stream(fake, taken)
    stream.want({"AAPL"})
    async with stream:

        async def subscribed(expected: list[str]) -> bool:
            return [s.get("bars") for s in fake.subscriptions] == [expected]

        await eventually(lambda: subscribed(["AAPL"]))
        stream.want({"AAPL", "MSFT"})
        await eventually(lambda: subscribed(["AAPL", "MSFT"]))
        fake.publish_bars([_bar("MSFT", 0, 410.5)])
        stream.want({"MSFT"})
        await eventually(lambda: subscribed(["MSFT"]))
        fake.publish_bars([_bar("AAPL", 0)])
        fake.publish_bars([_bar("MSFT", 1, 410)])

        async def msft_only() -> bool:
            return taken.of("MSFT") == [1, 2]

        await eventually(msft_only)
    assert taken.of("AAPL") == []  # never priced before: from the subscription on only


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"secret_key": SecretStr("wrong")}, ErrorKind.CREDENTIALS),
        ({"feed": "sip"}, ErrorKind.SUBSCRIPTION),  # the account has iex only
    ],
)
async def test_a_refusal_is_counted_and_retried_never_a_crash(
    fake: FakeAlpacaData, changes: dict[str, object], kind: ErrorKind
) -> None:
    taken = Taken({})
    stream = _stream(fake, taken, **changes)
    stream.want({"AAPL"})
    before = _errors_metric(kind)
    async with stream:

        async def refused() -> bool:
            return stream.errors[kind] >= 1

        await eventually(refused)
        await asyncio.sleep(0.2)
        assert stream.bars_taken == 0
    assert _errors_metric(kind) - before == stream.errors[kind]  # and on /metrics
    # Left cleanly: the loop ended by the exit, not by the error.


async def test_a_second_connection_of_the_account_is_refused_and_the_first_keeps_going(
    fake: FakeAlpacaData,
) -> None:
    first, second = Taken({}), Taken({})
    one, other = _stream(fake, first), _stream(fake, second)
    one.want({"AAPL"})
    other.want({"AAPL"})
    async with one:

        async def subscribed() -> bool:
            return len(fake.subscriptions) == 1

        await eventually(subscribed)
        async with other:

            async def limited() -> bool:
                return other.errors[ErrorKind.CONNECTION_LIMIT] >= 1

            await eventually(limited)
            fake.publish_bars([_bar("AAPL", 0)])

            async def first_has_it() -> bool:
                return first.of("AAPL") == [1]

            await eventually(first_has_it)
    assert second.bars == []


async def test_history_pages_through_every_bar_and_waits_out_a_rate_limit(
    fake: FakeAlpacaData,
) -> None:
    fake.record_history("AAPL", [_bar("AAPL", n) for n in range(10_050)])  # two pages
    fake.rate_limit_next("/v2/stocks/bars", retry_after="0")
    history = AlpacaHistory(_config(fake))
    try:
        pages = [page async for page in history.pages(["AAPL"], T0 + 10 * MINUTE)]
    finally:
        await history.close()
    minutes = [int((b.as_of - T0) / MINUTE) for page in pages for b in page.bars]
    assert minutes == list(range(11, 10_051))  # opened from 14:40 on, each once, in order
    assert len(pages) == 2 and history.requests == 3  # the 429 asked again, then two pages


async def test_cut_three_times_mid_scenario_every_bar_reaches_the_intake_once(
    fake: FakeAlpacaData,
) -> None:
    """A chaos case: two symbols, 30 minutes of bars, the stream cut after every 8th minute
    (three times); some minutes happen while it is down (history only)."""
    taken = Taken({"AAPL": T0, "MSFT": T0})
    stream = _stream(fake, taken)
    stream.want({"AAPL", "MSFT"})
    async with stream:
        await eventually(lambda: _subscribed(fake, ["AAPL", "MSFT"]))
        for minute in range(30):
            bars = [_bar("AAPL", minute, 148 + minute / 100), _bar("MSFT", minute, 410)]
            if minute % 8 == 7:  # cut: this minute's bars close while nobody listens
                connected = fake.connections
                fake.drop_connections()
                for bar in bars:
                    fake.record_history(bar.symbol, [bar])

                async def back(connected: int = connected) -> bool:
                    return fake.connections > connected and await _subscribed(
                        fake, ["AAPL", "MSFT"]
                    )

                await eventually(back)
            else:
                fake.publish_bars(bars)
            await asyncio.sleep(0.01)

        async def all_in() -> bool:
            return taken.of("AAPL") == list(range(1, 31)) == taken.of("MSFT")

        await eventually(all_in)
    assert fake.connections >= 4  # the first and three more
    assert stream.bars_taken == 60  # none twice


async def _subscribed(fake: FakeAlpacaData, symbols: list[str]) -> bool:
    return [s.get("bars") for s in fake.subscriptions] == [symbols]


async def test_a_crypto_pair_comes_from_the_crypto_stream_and_its_history(
    fake: FakeAlpacaData,
) -> None:
    taken = Taken({"BTC/USD": T0 + MINUTE})
    fake.record_history("BTC/USD", [_bar("BTC/USD", 1, 60_000), _bar("BTC/USD", 2, 60_010)])
    stream = AlpacaBarStream(
        _config(fake), crypto=True, take=taken.take, last_taken=taken.last_taken
    )
    stream.want({"BTC/USD"})
    async with stream:

        async def caught_up() -> bool:
            return taken.of("BTC/USD") == [2, 3]

        await eventually(caught_up)
        fake.publish_bars([_bar("BTC/USD", 3, 60_020)])

        async def live() -> bool:
            return taken.of("BTC/USD") == [2, 3, 4]

        await eventually(live)
    assert [s.get("bars") for s in fake.subscriptions] in ([], [["BTC/USD"]])
    assert any(q.path.startswith("/v1beta3/crypto/us/bars") for q in fake.requests)


async def test_more_symbols_than_the_plan_allows_is_counted_and_retried() -> None:
    fake = FakeAlpacaData(feeds=("iex",), symbol_limit=1)
    async with serving(fake):
        taken = Taken({})
        stream = _stream(fake, taken)
        stream.want({"AAPL", "MSFT"})
        async with stream:

            async def limited() -> bool:
                return stream.errors[ErrorKind.SYMBOL_LIMIT] >= 1

            await eventually(limited)
            stream.want({"AAPL"})  # the operator closes a campaign: within the plan again

            async def subscribed() -> bool:
                return await _subscribed(fake, ["AAPL"])

            await eventually(subscribed, timeout=30)
