"""Campaign operations on a real Temporal dev server and PostgreSQL, each next to the raw
Temporal round trip it is built on, measured in the same run on the same server.

    .venv/bin/python -m bench.stack.temporal_bench [--samples 200] [--campaigns 1000]

- first entry decision (update-with-start creating the campaign) vs a raw update-with-start
  that creates a workflow whose update returns at once;
- later entry decision (update on the running campaign) vs a raw update on a running workflow,
  and vs a raw update that answers through one no-op local activity (the floor of any design
  that asks the database before it answers);
- price fan-out over N campaigns through the publisher vs raw signals to N running workflows,
  with the number of stop crossings the campaigns missed (must be 0).

Decisions are measured back to back (the goal figures: each decision then shares the machine
with the effects of the one before, which the raw anchors do not have) and paced, one every
``--pause-ms``, ours and the anchors alike (what one decision costs on a machine at rest).
"""

import argparse
import asyncio
import platform
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy import func, select
from temporalio.worker import Worker

from bench.micro.cpu import watch_postgres
from bench.micro.raw_anchor import RawAnchor, raw_noop
from bench.micro.raw_runs import (
    RAW_QUEUE,
    raw_signal_throughput,
    raw_update,
    raw_update_with_start,
    timed,
)
from bench.micro.raw_transaction import RawTransaction
from bench.stack.decision_cost import (
    PAIR,
    RAW_PAIR_EVENTS,
    RAW_START,
    RAW_UPDATE,
    CpuMeter,
    anatomy,
    events_of,
    line,
)
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import campaigns, orders
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.price_feed.publisher import DatabaseDirectory
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.databases import own_database
from campaign_engine.stack.temporal_server import local_temporal
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.worker import build_worker

D = Decimal


def trading_range(symbol: str, day: int) -> TradingRange:
    return TradingRange(
        id=uuid.uuid5(UUID(int=7), f"{symbol}-{day}"),
        symbol=symbol,
        timeframe="1h",
        start_time=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day),
        creek=D("145"),
        ice=D("150"),
        jump=D("156"),
    )


def entry(rng: TradingRange, pattern: Pattern) -> EntrySignal:
    prices = {Pattern.SPRING: ("148.50", "147.00"), Pattern.SOS: ("150.25", "148.75")}
    entry_price, stop = prices[pattern]
    return EntrySignal(
        signal_id=uuid.uuid4(),
        symbol=rng.symbol,
        timeframe="1h",
        trading_range=rng,
        pattern=pattern,
        entry_price=D(entry_price),
        stop_loss=D(stop),
        confidence=D(80),
        r_multiple=D(3),
        # A sliver of risk each, so that a thousand open campaigns stay inside the limits.
        requested_risk_pct=D("0.005"),
        generated_at=datetime.now(UTC),
    )


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


async def main(samples: int, campaign_count: int, rounds: int, pause_ms: int) -> None:
    print(
        f"campaign-engine Temporal benchmark, CPython {sys.version.split()[0]} on "
        f"{platform.machine()}; {samples} samples per latency, {campaign_count} campaigns"
    )
    with own_database("ce_bench_") as database:
        if database.data_dir is not None:
            watch_postgres(data_dir=str(database.data_dir))
        else:
            watch_postgres(database=database.name)
        await measure(database.url, samples, campaign_count, rounds, pause_ms)


async def measure(url: str, samples: int, campaign_count: int, rounds: int, pause_ms: int) -> None:
    env = await local_temporal()
    settings = Settings(database_url=url, metrics_port=None, task_queue="campaigns-bench")
    engine = create_engine_for(url)
    await CampaignRepository(engine).ensure_portfolio(D("100000"))
    client = CampaignClient(env.client, policy=settings.policy, task_queue=settings.task_queue)
    campaign_worker = build_worker(env.client, engine, settings, channels=[])
    transaction = RawTransaction(engine)
    await transaction.prepare()
    raw_worker = Worker(
        env.client,
        task_queue=RAW_QUEUE,
        workflows=[RawAnchor],
        activities=[raw_noop, transaction.raw_transaction],
    )
    pause = pause_ms / 1000
    async with campaign_worker, raw_worker:
        await raw_update_with_start(env.client, 20)  # warm up both paths
        await campaign_decisions(client, 20, first_day=4000)
        cpu = CpuMeter()
        anchor_start = await cpu.measure(
            RAW_START, samples, raw_update_with_start(env.client, samples)
        )
        anchor_update = await cpu.measure(RAW_UPDATE, samples, raw_update(env.client, samples))
        floor = await cpu.measure(
            "raw update + no-op local activity",
            samples,
            raw_update(env.client, samples, through="noop"),
        )
        true_floor = await cpu.measure(
            "raw update + one PG transaction (LA)",
            samples,
            raw_update(env.client, samples, through="transaction"),
        )
        await cpu.measure(
            "raw update + activity after answer",
            samples,
            raw_update(env.client, samples, through="activity after"),
        )
        await asyncio.sleep(1)  # the last follow-up activity finishes outside the next phase
        first, later = await cpu.measure(
            PAIR,
            samples,
            campaign_decisions(client, samples, first_day=5000),
        )
        # The last pair's campaign, read at once: its two decisions and their effects (a
        # campaign polling its broker adds a timer, two workflow tasks and an activity per poll).
        await asyncio.sleep(1)
        last = trading_range(f"D{(samples - 1) % 10}", 5000 + samples - 1)
        pair_events = await events_of(env.client, workflow_id_for(last.campaign_id))
        paced_anchor_start = await raw_update_with_start(env.client, samples, pause)
        paced_anchor_update = await raw_update(env.client, samples, pause)
        paced_floor = await raw_update(env.client, samples, pause, through="noop")
        paced_true_floor = await raw_update(env.client, samples, pause, through="transaction")
        paced_first, paced_later = await campaign_decisions(client, samples, 6000, pause)
        raw_rate = await raw_signal_throughput(env.client, campaign_count, rounds)
        fan_rate, missed = await fan_out(client, settings, campaign_count, rounds)
    await engine.dispose()
    await env.shutdown()
    print("back to back (the goals):")
    print(line("first entry decision", first, anchor_start, 1.5, 2))
    print(line("later entry decision", later, anchor_update, 1.5, 2))
    print(line("  vs the LA floor", later, floor, 1.5, 2))
    print(line("  vs one PG transaction", later, true_floor, 1.3, 1.6))
    print(f"paced, one every {pause_ms} ms:")
    print(line("first entry decision", paced_first, paced_anchor_start, 1.5, 2))
    print(line("later entry decision", paced_later, paced_anchor_update, 1.5, 2))
    print(line("  vs the LA floor", paced_later, paced_floor, 1.5, 2))
    print(line("  vs one PG transaction", paced_later, paced_true_floor, 1.3, 1.6))
    print(line("  (LA floor vs update)", paced_floor, paced_anchor_update, 1.5, 2))
    print(cpu.report())
    print(cpu.pair_line())
    print(anatomy(pair_events, raw=RAW_PAIR_EVENTS))
    print(
        f"  {'price fan-out':<24} {fan_rate:8.0f} signals/s vs raw signals {raw_rate:8.0f}/s "
        f"({fan_rate / raw_rate:4.2f}x, goal >= 0.5x), {missed} missed crossings (goal 0)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pause-ms", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.samples, args.campaigns, args.rounds, args.pause_ms))
