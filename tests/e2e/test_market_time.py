"""Market time through the running stack (API, Temporal, PostgreSQL): which bars a campaign
takes is decided by market timestamps alone, and no price the API accepted is lost."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from campaign_engine.db.schema import campaigns, orders
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal, trading_range
from tests.e2e.api_fixtures import V1, body, ok, submit
from tests.support.harness import Stack, eventually, persisted_status

D = Decimal
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
LAST_YEAR = datetime(2019, 3, 4, 14, 30, tzinfo=UTC)


def _price(at: datetime, minutes: int, **levels: str) -> dict[str, str]:
    as_of = (at + timedelta(minutes=minutes)).isoformat()
    if "price" in levels:
        return {"symbol": "AAPL", "as_of": as_of, "price": levels["price"]}
    return {"symbol": "AAPL", "as_of": as_of, **levels}


async def _stop_out_at(api: httpx.AsyncClient, stack: Stack, start: datetime, n: int) -> Any:
    """An SOS entry, a quiet bar, then a bar through the stop: the story of a stop-out, told
    at market time ``start``."""
    rng = trading_range(start=start, range_id=UUID(int=n))
    plan = await submit(api, signal(Pattern.SOS, rng=rng, at=start))
    assert plan["approved"]
    bars = [
        _price(start, 5, price="149.90"),
        _price(start, 10, open="149.00", high="149.50", low="148.70", close="148.90"),
    ]
    await ok(await api.post(f"{V1}/prices", json=bars), 202)
    await persisted_status(stack, plan["campaign_id"], CampaignStatus.COMPLETED)
    async with stack.engine.connect() as conn:
        realized = await conn.scalar(
            select(campaigns.c.realized_pnl).where(campaigns.c.campaign_id == plan["campaign_id"])
        )
        sells = (
            await conn.execute(
                select(orders.c.purpose, orders.c.quantity, orders.c.expected_price).where(
                    orders.c.campaign_id == plan["campaign_id"], orders.c.side == "SELL"
                )
            )
        ).all()
    return realized, [tuple(s) for s in sells]


@pytest.mark.parametrize("start", [LAST_YEAR, NOW], ids=["2019", "an-hour-ago"])
async def test_a_past_year_plays_as_the_present_does(
    stack: Stack, api: httpx.AsyncClient, start: datetime
) -> None:
    # The worked stop-out (test_campaign_paths), whatever the date: 1,333 shares out at 148.75.
    assert await _stop_out_at(api, stack, start, 1) == (
        D(1333) * D("-1.50"),
        [("STOP", D(1333), D("148.75"))],
    )


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
