"""Market time through the running stack (API, Temporal, PostgreSQL): no price the API accepted
is lost, whenever it arrives. (That a past year plays as the present does is the workflow's
own logic: ``tests/workflow/test_market_time.py``.)"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal, trading_range
from tests.e2e.api_fixtures import V1, body, ok
from tests.support.harness import Stack, eventually

D = Decimal
LAST_YEAR = datetime(2019, 3, 4, 14, 30, tzinfo=UTC)


def _price(at: datetime, minutes: int, **levels: str) -> dict[str, str]:
    as_of = (at + timedelta(minutes=minutes)).isoformat()
    if "price" in levels:
        return {"symbol": "AAPL", "as_of": as_of, "price": levels["price"]}
    return {"symbol": "AAPL", "as_of": as_of, **levels}


async def test_a_price_before_the_read_model_lists_the_campaign_arrives_without_a_later_one(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # The one bar is published while no campaign is open on the symbol (a feed a moment ahead
    # of the orchestrator); the campaign is then approved through the orchestrator's own
    # client, so the API hears of it only from the read model. No later price comes: only the
    # publisher's catch-up can deliver the bar.
    await ok(await api.post(f"{V1}/prices", json=[_price(LAST_YEAR, 1, price="150.10")]), 202)
    plan = await stack.client.submit(signal(Pattern.SOS, at=LAST_YEAR, rng=_range(LAST_YEAR)))

    async def arrived() -> bool:
        state = await stack.client.status(plan.campaign_id)
        return state is not None and state.last_price == D("150.10")

    await eventually(arrived, timeout=15)


async def test_an_approval_through_the_api_gets_the_bars_already_sent(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # A bar after the signal's market time, published before the signal is decided (a feed
    # ahead of the orchestrator): the campaign still takes it, as a backtest would.
    entry = signal(Pattern.SOS, at=LAST_YEAR, rng=_range(LAST_YEAR))
    await ok(await api.post(f"{V1}/prices", json=[_price(LAST_YEAR, 1, price="150.20")]), 202)
    plan = await ok(await api.post(f"{V1}/signals", json=body(entry)))

    async def arrived() -> bool:
        state = await stack.client.status(plan["campaign_id"])
        return state is not None and state.last_price == D("150.20")

    await eventually(arrived, timeout=15)


async def test_a_price_older_than_what_was_sent_is_counted_not_lost_in_silence(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS, at=LAST_YEAR, rng=_range(LAST_YEAR)))
    answer = await ok(
        await api.post(f"{V1}/prices", json=[_price(LAST_YEAR, 5, price="150.30")]), 202
    )
    assert answer == {"accepted": 1, "too_old": 0, "held": 0}

    async def arrived() -> bool:
        state = await stack.client.status(plan.campaign_id)
        return state is not None and state.last_price == D("150.30")

    await eventually(arrived, timeout=15)
    late = await ok(
        await api.post(f"{V1}/prices", json=[_price(LAST_YEAR, 3, price="140.00")]), 202
    )
    assert late == {"accepted": 1, "too_old": 1, "held": 0}
    state = await stack.client.status(plan.campaign_id)
    assert state is not None and state.last_price == D("150.30")
    assert not state.is_closed  # the late low never reached the stop


def _range(start: datetime) -> Any:
    return trading_range(start=start)
