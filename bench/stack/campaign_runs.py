"""The campaign side of ``temporal_bench``, as ``bench.micro.raw_runs`` is the raw side:
entry decisions timed one after another, and a price fan-out over many open campaigns through
the publisher, counting the stop crossings the campaigns missed."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.micro.raw_runs import timed
from bench.scale.scale_stack import trading_range
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import campaigns, orders
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.price_feed.publisher import DatabaseDirectory
from campaign_engine.runtime.settings import Settings
from campaign_engine.testing.builders import signal

D = Decimal


def entry(rng: TradingRange, pattern: Pattern) -> EntrySignal:
    """The worked example's entry of ``pattern`` (a Spring at 148.50, an SOS at 150.25) on
    ``rng``, asking a sliver of risk, so that a thousand open campaigns stay inside the
    limits."""
    return signal(pattern, rng=rng, requested_risk_pct="0.005", at=datetime.now(UTC))


async def campaign_decisions(
    client: CampaignClient, samples: int, first_day: int, pause: float = 0.0
) -> tuple[list[float], list[float]]:
    ranges = [trading_range(f"D{i % 10}", first_day + i) for i in range(samples)]

    def submit(rng: TradingRange, pattern: Pattern) -> Callable[[], Awaitable[object]]:
        return lambda: client.submit(entry(rng, pattern))

    first = await timed([submit(r, Pattern.SPRING) for r in ranges], pause)
    later = await timed([submit(r, Pattern.SOS) for r in ranges], pause)
    return first, later


async def fan_out(
    client: CampaignClient, settings: Settings, campaigns_count: int, rounds: int
) -> tuple[float, int]:
    """Open N SPRING campaigns over 10 symbols, then publish rounds of prices for the 10
    symbols (each flush reaches N/10 campaigns), the last one crossing every stop."""
    engine = create_engine_for(settings.database_url or "", pool_size=5)
    symbols = [f"F{i}" for i in range(10)]
    ranges = [trading_range(symbols[i % 10], i) for i in range(campaigns_count)]
    limit = asyncio.Semaphore(32)

    async def open_one(rng: TradingRange) -> None:
        async with limit:
            plan = await client.submit(entry(rng, Pattern.SPRING))
            assert plan.approved, plan.rejection_reason

    await asyncio.gather(*(open_one(r) for r in ranges))
    directory = DatabaseDirectory(engine)

    async def opened() -> int:
        return sum([len(await directory.open_campaigns(s)) for s in symbols])

    while await opened() < campaigns_count:
        await asyncio.sleep(0.2)
    # Each round is what the publisher does at every interval: one bar per symbol, flushed to
    # all of the symbol's campaigns at once. The last round crosses every campaign's stop.
    publisher = client.publisher(directory, interval=timedelta(hours=1))
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(rounds):
        price = "146.50" if n == rounds - 1 else f"{148.6 + (n % 5) / 10:.2f}"
        for symbol in symbols:
            as_of = started_at + timedelta(milliseconds=n + 1)
            await publisher.publish(PriceUpdate(symbol=symbol, as_of=as_of, price=D(price)))
        await publisher.flush()
    elapsed = time.perf_counter() - started
    # The last price breaks every Spring's stop, which is also its invalidation level: a
    # crossing is missed if a campaign never places its exit order. Give every campaign
    # time to carry out its exits (a thousand stop-outs at once queue up), then count.
    deadline = time.monotonic() + 900
    while True:
        async with engine.connect() as conn:
            still_open = (
                await conn.execute(
                    select(func.count()).where(
                        campaigns.c.symbol.in_(symbols), campaigns.c.closed_at.is_(None)
                    )
                )
            ).scalar_one()
        if still_open == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    settle = time.perf_counter() - started
    async with engine.connect() as conn:
        stopped = (
            await conn.execute(
                select(func.count(func.distinct(orders.c.campaign_id))).where(
                    orders.c.symbol.in_(symbols), orders.c.purpose.in_(("STOP", "INVALIDATION"))
                )
            )
        ).scalar_one()
    await engine.dispose()
    print(f"  ({campaigns_count} stop-outs carried out {settle:.0f} s after the first price)")
    return publisher.signals_sent / elapsed, campaigns_count - stopped
