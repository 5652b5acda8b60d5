"""The market-data stand-in's stream on the raw websocket, in JSON as Alpaca documents it: the
greeting, both ways to authenticate, every error code it speaks, the subscription
acknowledgements, batched bars and updated bars, and a dropped connection."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from campaign_engine.testing.fake_alpaca_data import KEY_ID, SECRET, Bar, FakeAlpacaData, serving

T0 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
AUTH = {"action": "auth", "key": KEY_ID, "secret": SECRET}
STOCK_ACK_KEYS = {
    "T",
    "trades",
    "quotes",
    "bars",
    "updatedBars",
    "dailyBars",
    "statuses",
    "lulds",
    "corrections",
    "cancelErrors",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpacaData]:
    async with serving(FakeAlpacaData(feeds=["iex"], symbol_limit=4, auth_timeout=0.5)) as served:
        yield served


async def said(ws: ClientConnection) -> list[dict[str, Any]]:
    answer = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert isinstance(answer, list)
    return answer


async def send(ws: ClientConnection, message: object) -> list[dict[str, Any]]:
    await ws.send(json.dumps(message))
    return await said(ws)


async def authed(fake: FakeAlpacaData, feed: str = "iex") -> ClientConnection:
    ws = await connect(fake.stock_stream_url(feed))
    assert await said(ws) == [{"T": "success", "msg": "connected"}]
    assert await send(ws, AUTH) == [{"T": "success", "msg": "authenticated"}]
    return ws


def error(code: int, msg: str) -> list[dict[str, Any]]:
    return [{"T": "error", "code": code, "msg": msg}]


async def closed(ws: ClientConnection) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), timeout=5)
    except ConnectionClosed:
        return True
    return False


async def test_subscribe_and_unsubscribe_are_acknowledged_with_the_whole_subscription(
    fake: FakeAlpacaData,
) -> None:
    ws = await authed(fake)
    ack = await send(ws, {"action": "subscribe", "bars": ["AAPL"], "trades": ["MSFT"]})
    assert len(ack) == 1 and set(ack[0]) == STOCK_ACK_KEYS
    assert (ack[0]["T"], ack[0]["bars"], ack[0]["trades"], ack[0]["corrections"]) == (
        "subscription",
        ["AAPL"],
        ["MSFT"],
        ["MSFT"],  # corrections (and cancel errors) follow trades
    )
    ack = await send(ws, {"action": "subscribe", "updatedBars": ["AAPL"], "bars": ["SPY"]})
    assert (ack[0]["bars"], ack[0]["updatedBars"]) == (["AAPL", "SPY"], ["AAPL"])
    ack = await send(ws, {"action": "unsubscribe", "bars": ["AAPL"], "trades": ["MSFT"]})
    assert (ack[0]["bars"], ack[0]["trades"], ack[0]["cancelErrors"]) == (["SPY"], [], [])
    assert fake.subscriptions == [{k: v for k, v in ack[0].items() if k != "T"}]
    await ws.close()


async def test_bars_reach_only_their_subscribers_batched_in_one_array(
    fake: FakeAlpacaData,
) -> None:
    ws = await authed(fake)
    await send(ws, {"action": "subscribe", "bars": ["AAPL", "MSFT"], "updatedBars": ["*"]})
    bars = [Bar(s, T0, 10, 11, 9, 10.5, 100, 7, 10.2) for s in ("AAPL", "MSFT", "TSLA")]
    fake.publish_bars(bars)
    assert await said(ws) == [
        {
            "T": "b",
            "S": s,
            "o": 10,
            "h": 11,
            "l": 9,
            "c": 10.5,
            "v": 100,
            "t": "2024-03-04T14:30:00Z",
            "n": 7,
            "vw": 10.2,
        }
        for s in ("AAPL", "MSFT")
    ]
    fake.publish_bar("TSLA", T0, open=10, high=12, low=9, close=11.5, volume=140, kind="u")
    (updated,) = await said(ws)
    assert (updated["T"], updated["S"], updated["c"], updated["v"]) == ("u", "TSLA", 11.5, 140)
    await ws.close()


async def test_header_auth_at_connect(fake: FakeAlpacaData) -> None:
    headers = {"APCA-API-KEY-ID": KEY_ID, "APCA-API-SECRET-KEY": SECRET}
    async with connect(fake.stock_stream_url(), additional_headers=headers) as ws:
        assert await said(ws) == [{"T": "success", "msg": "connected"}]
        assert await said(ws) == [{"T": "success", "msg": "authenticated"}]
        assert await send(ws, AUTH) == error(403, "already authenticated")


async def test_wrong_keys_fail_with_402_and_close(fake: FakeAlpacaData) -> None:
    ws = await connect(fake.stock_stream_url())
    await said(ws)
    assert await send(ws, {**AUTH, "secret": "wrong"}) == error(402, "auth failed")
    assert await closed(ws)
    fake.reject_next_auth()
    ws = await connect(fake.stock_stream_url())
    await said(ws)
    assert await send(ws, AUTH) == error(402, "auth failed")
    assert await closed(ws)
    assert (await authed(fake)).state.name == "OPEN"  # only the next one was refused


async def test_no_auth_in_time_is_404_auth_timeout(fake: FakeAlpacaData) -> None:
    async with connect(fake.stock_stream_url()) as ws:
        await said(ws)
        assert await said(ws) == error(404, "auth timeout")
        assert await closed(ws)


async def test_a_second_connection_of_the_key_is_406(fake: FakeAlpacaData) -> None:
    first = await authed(fake)
    async with connect(fake.stock_stream_url()) as second:
        await said(second)
        assert await send(second, AUTH) == error(406, "connection limit exceeded")
        assert await closed(second)
    await first.close()
    await asyncio.sleep(0.2)
    await (await authed(fake)).close()  # the slot is free again


async def test_a_feed_outside_the_subscription_is_409(fake: FakeAlpacaData) -> None:
    async with connect(fake.stock_stream_url("sip")) as ws:
        await said(ws)
        assert await send(ws, AUTH) == error(409, "insufficient subscription")
        assert await closed(ws)
    await (await authed(fake, "test")).close()  # the test stream is open to everyone


async def test_requests_out_of_turn_or_malformed(fake: FakeAlpacaData) -> None:
    async with connect(fake.stock_stream_url()) as ws:
        await said(ws)
        assert await send(ws, {"action": "subscribe", "bars": ["AAPL"]}) == error(
            401, "not authenticated"
        )
        await ws.send("{not json")
        assert await said(ws) == error(400, "invalid syntax")
        assert await send(ws, {"action": "dance"}) == error(400, "invalid syntax")
        assert await send(ws, AUTH) == [{"T": "success", "msg": "authenticated"}]
        assert await send(ws, {"action": "subscribe", "orderbooks": ["AAPL"]}) == error(
            410, "invalid subscribe action for this feed"
        )


async def test_more_symbols_than_the_limit_is_405_and_keeps_the_subscription(
    fake: FakeAlpacaData,
) -> None:
    ws = await authed(fake)
    await send(ws, {"action": "subscribe", "bars": ["AAPL", "MSFT"]})
    assert await send(ws, {"action": "subscribe", "quotes": ["SPY", "QQQ", "IWM"]}) == error(
        405, "symbol limit exceeded"
    )
    assert fake.subscriptions[0]["bars"] == ["AAPL", "MSFT"]
    assert fake.subscriptions[0]["quotes"] == []
    await ws.close()


async def test_crypto_acknowledges_its_own_channels(fake: FakeAlpacaData) -> None:
    async with connect(fake.crypto_stream_url) as ws:
        await said(ws)
        await send(ws, AUTH)
        (ack,) = await send(ws, {"action": "subscribe", "bars": ["BTC/USD"], "orderbooks": ["*"]})
        assert set(ack) == {
            "T",
            "trades",
            "quotes",
            "orderbooks",
            "bars",
            "updatedBars",
            "dailyBars",
        }
        fake.publish_bar("AAPL", T0, open=1, high=1, low=1, close=1, volume=1)  # a stock
        fake.publish_bar("BTC/USD", T0, open=6e4, high=6e4, low=6e4, close=6e4, volume=0.5)
        ((bar,),) = [await said(ws)]
        assert (bar["S"], bar["v"]) == ("BTC/USD", 0.5)


async def test_drop_connections_cuts_every_socket(fake: FakeAlpacaData) -> None:
    ws = await authed(fake)
    fake.drop_connections()
    assert await closed(ws)
    assert ws.close_code == 1011
    assert fake.received == [AUTH]
