"""``PRICE_FEED=alpaca`` end to end against the local stand-in of Alpaca's market data: a
campaign opened through the API is subscribed, takes the stream's bars, survives a dropped
connection with the missed bar filled from history, exits on a bar, and the feed lets go
of its symbol once no campaign holds it; every bar entered the intake once."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from campaign_engine.db.schema import price_intake
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal
from campaign_engine.testing.fake_alpaca_data import KEY_ID, SECRET, Bar, FakeAlpacaData, serving
from tests.e2e.api_fixtures import CAMPAIGN, V1, api_client, ok, submit
from tests.support.harness import Stack, eventually

T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)  # the builders' signals' market time
MINUTE = timedelta(minutes=1)


def _bar(minute: int, low: float, close: float) -> Bar:
    return Bar("AAPL", T0 + minute * MINUTE, close, max(close, 149.5), low, close, 100)


async def _last_price(api: httpx.AsyncClient) -> Decimal | None:
    campaign = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    last = campaign["last_price"]
    return None if last is None else Decimal(last)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpacaData]:
    async with serving(FakeAlpacaData(feeds=("iex",))) as served:
        yield served


async def test_a_campaign_trades_on_alpaca_bars_through_a_dropped_connection(
    stack: Stack, fake: FakeAlpacaData
) -> None:
    settings = stack.settings.model_copy(
        update={
            "price_feed": "alpaca",
            "alpaca_api_key_id": KEY_ID,
            "alpaca_api_secret_key": SecretStr(SECRET),
            "alpaca_data_url": fake.base_url,
            "alpaca_data_stream_url": fake.stream_url,
        }
    )
    async with api_client(settings, stack.client, stack.engine) as api:
        await submit(api, signal(Pattern.SPRING))  # 148.50, stop 147.00; the paper fill

        async def subscribed() -> bool:
            return [s.get("bars") for s in fake.subscriptions] == [["AAPL"]]

        await eventually(subscribed)  # one connection: the stocks' (no crypto is wanted)
        fake.publish_bars([_bar(1, 148.6, 149.0)])  # 14:31, crosses nothing

        async def priced() -> bool:
            return await _last_price(api) == Decimal("149")

        await eventually(priced)
        fake.drop_connections()
        fake.record_history("AAPL", [_bar(2, 148.8, 149.2)])  # 14:32, while it was down

        async def refilled() -> bool:
            return await _last_price(api) == Decimal("149.2") and fake.connections >= 2

        await eventually(refilled)
        fake.publish_bars([_bar(3, 146.5, 146.75)])  # 14:33, through the stop and the range

        async def exited() -> bool:
            events = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/events"))
            return "ExitExecuted" in [e["data"].get("kind") for e in events["events"]]

        await eventually(exited, timeout=30)
        campaign = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
        assert campaign["status"] == "INVALIDATED"  # closed under the range's support: all out

        async def let_go() -> bool:  # no campaign holds AAPL any more
            return [s.get("bars") for s in fake.subscriptions] in ([[]], [])

        await eventually(let_go)
    async with stack.engine.connect() as conn:
        rows = (await conn.execute(select(price_intake.c.price_update))).scalars().all()
    taken = sorted(PriceUpdate.model_validate(r).as_of for r in rows)
    assert taken == [T0 + 2 * MINUTE, T0 + 3 * MINUTE, T0 + 4 * MINUTE]  # each bar once
