"""The scale benchmark's longest phase: one campaign through a million price updates.

The updates go through the price publisher the API uses (in this process, with its delivery
journal; the intake rows ``POST /prices`` appends are left out), which merges them into one
bar per flush interval and signals that bar to the campaign. Prices wander between the entry
and the first target, above the stop, so the campaign stays open and evaluates every bar; the
last update crosses the stop, and the campaign must exit. The workflow continues-as-new past
``continue_as_new_after_events`` (lowered here so that a run of minutes goes through several
runs); the run chain is read back from Temporal.

The worker runs in this process too: the RSS sampled along the way is the worker's, with the
publisher's and the bench's. The anchor is the same publisher over the same stream with a send
that does nothing: what merging and flushing cost alone, without Temporal or the database.
"""

import asyncio
import gc
import random
import time
import tracemalloc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.micro.cpu import CpuWindow
from bench.record import Anchor, Figure
from bench.scale.scale_histories import run_chain
from bench.scale.scale_stack import (
    Stack,
    open_campaigns,
    spring,
    trading_range,
    until_closed,
)
from bench.scale.scale_stack import worker_rss_mb as rss_mb
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.schema import campaigns, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.publisher import DatabaseDirectory, OpenCampaign, PricePublisher
from campaign_engine.temporal.messages import workflow_id_for

D = Decimal
SYMBOL = "M0"
LOW, HIGH = D("148.60"), D("149.40")  # above the Spring's stop (147.00), below its targets
CROSSING = D("146.50")
SAMPLES = 20  # RSS every 5% of the updates


def wander(count: int, start: datetime, seed: int = 7) -> Iterator[PriceUpdate]:
    """``count`` ticks a millisecond of market time apart, a bounded random walk by the cent;
    the last crosses the stop."""
    rng = random.Random(seed)
    price = D("149.00")
    cent = D("0.01")
    for i in range(count - 1):
        price = min(HIGH, max(LOW, price + cent * rng.choice((-1, 1))))
        yield PriceUpdate(symbol=SYMBOL, as_of=start + timedelta(milliseconds=i + 1), price=price)
    yield PriceUpdate(symbol=SYMBOL, as_of=start + timedelta(milliseconds=count), price=CROSSING)


@dataclass
class Feed:
    """Updates/s and the RSS samples (updates so far, MB) of one pass through a publisher."""

    seconds: float = 0.0
    samples: list[tuple[int, float]] = field(default_factory=list)
    snapshots: list[tracemalloc.Snapshot] = field(default_factory=list)
    overhead: int = 0  # bytes tracemalloc itself held at the end


async def feed(
    publisher: PricePublisher, updates: Iterator[PriceUpdate], count: int, rate: float = 0
) -> Feed:
    """Every update published, as fast as they go or, with ``rate``, that many a second."""
    result = Feed()
    every = max(count // SAMPLES, 1)
    started = time.perf_counter()
    for n, update in enumerate(updates, 1):
        await publisher.publish(update)
        if rate and n % 100 == 0:
            ahead = started + n / rate - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)
        if n % every == 0:
            gc.collect()
            result.samples.append((n, rss_mb()))
            if tracemalloc.is_tracing():
                # Only the one after warm-up and the newest are kept: each holds every live
                # block's trace, and twenty of them grew the RSS they were to explain.
                del result.snapshots[2:]
                result.snapshots.append(tracemalloc.take_snapshot())
    await publisher.flush()
    result.seconds = time.perf_counter() - started
    result.overhead = tracemalloc.get_tracemalloc_memory()
    return result


def _db(stack_: Stack) -> str:
    return f" {stack_.database}'s backends" if stack_.database else ""


class _Fixed:
    """The anchor's directory: the one campaign, from memory."""

    def __init__(self, campaign: OpenCampaign) -> None:
        self._campaign = [campaign]

    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        return self._campaign


async def _nothing(campaign_id: str, update: PriceUpdate) -> None:
    return None


def slope_per_100k(samples: Sequence[tuple[int, float]]) -> float:
    """Least-squares MB per 100,000 updates."""
    if len(samples) < 2:
        return 0.0
    xs = [n / 100_000 for n, _ in samples]
    ys = [mb for _, mb in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _print_rss(label: str, samples: Sequence[tuple[int, float]]) -> None:
    after_warmup = samples[1:]  # the first 5% warm the caches, the history deque and the SDK
    first, last = after_warmup[0], after_warmup[-1]
    print(
        f"    {label} RSS: {samples[0][1]:.0f} MB at {samples[0][0]}, {first[1]:.0f} MB at "
        f"{first[0]} (after warm-up) -> {last[1]:.0f} MB at {last[0]}, max "
        f"{max(mb for _, mb in samples):.0f} MB; slope {slope_per_100k(after_warmup):+.2f} MB "
        "per 100k updates after warm-up"
    )
    print("      samples (MB): " + " ".join(f"{mb:.0f}" for _, mb in samples))


def _print_growth(snapshots: Sequence[tracemalloc.Snapshot], overhead: int) -> None:
    if len(snapshots) < 3:
        return
    print(
        "    tracemalloc, what grew from the second sample to the last (top 10; its own "
        f"traces took {overhead / 2**20:.1f} MB of the RSS):"
    )
    for stat in snapshots[-1].compare_to(snapshots[1], "lineno")[:10]:
        print(f"      {stat}")


async def million(
    stack_: Stack,
    updates: int,
    after_events: int,
    interval_ms: int,
    rate: float,
    trace: bool,
    retention: int = 10_000,
) -> list[Figure]:
    """The campaign's run (paced at ``rate`` updates a second, or as fast as it goes) beside
    the anchor's (always as fast as it goes)."""
    settings = stack_.settings(continue_as_new_after_events=after_events)
    client = stack_.client(settings)
    signal = spring(trading_range(SYMBOL, 0), D(1))
    opened_at = signal.generated_at
    start = opened_at + timedelta(seconds=1)

    # The anchor first: the same publisher and stream, nothing sent anywhere.
    interval = timedelta(milliseconds=interval_ms)
    alone = PricePublisher(
        _nothing, _Fixed(OpenCampaign(signal.campaign_id, opened_at)), interval=interval
    )
    with CpuWindow() as anchor_cpu:
        anchor = await feed(alone, wander(updates, start), updates)
    anchor_rate = updates / anchor.seconds
    print(
        f"  anchor, the publisher alone (no Temporal, no database): {updates} updates in "
        f"{anchor.seconds:.1f} s ({anchor_rate:.0f}/s), {alone.signals_sent} bars flushed"
    )
    print(
        f"    CPU µs per update (bench / temporal / postgres{_db(stack_)}): "
        f"{anchor_cpu.per(updates, 1e6)}"
    )
    _print_rss("bench", anchor.samples)
    del alone

    async with stack_.worker(settings):
        (approved,) = await open_campaigns(client, [signal])
        assert approved, "the entry was refused"
        engine = create_engine_for(stack_.url, pool_size=2)
        await until_open(engine)
        if trace:
            tracemalloc.start(1)  # the line that allocated: ten frames slowed a run tenfold
        publisher = client.publisher(
            DatabaseDirectory(engine),
            journal=PriceIntake(engine),
            interval=interval,
            retention=retention,  # bars kept for campaigns that missed some (~1.5 KB each)
        )
        with CpuWindow() as cpu:
            async with publisher:
                # As the API does: nothing accepted before it has read its journal (a bar
                # recorded meanwhile would come back as one to send again).
                assert await publisher.ready(timeout=30), "the publisher did not resume"
                fed = await feed(publisher, wander(updates, start), updates, rate)
            settled = await until_closed(engine, time.perf_counter(), deadline=600)
        if trace:
            tracemalloc.stop()
        stopped = await exits(engine)
        await engine.dispose()
    runs = await run_chain(stack_.temporal, workflow_id_for(signal.campaign_id))
    received = sum(r.signals for r in runs)
    throughput = updates / fed.seconds
    print(
        f"  {updates} updates to one campaign through the publisher in {fed.seconds:.1f} s: "
        f"{throughput:.0f}/s ({f'paced at {rate:.0f}/s, ' if rate else ''}bars every "
        f"{interval_ms} ms, {retention} kept) vs the publisher alone "
        f"{anchor_rate:.0f}/s ({throughput / anchor_rate:.2f}x); "
        f"{publisher.signals_sent} bars signalled ({publisher.signals_sent / fed.seconds:.1f}/s),"
        f" {received} received by the campaign; the exit {settled:.1f} s after the last update;"
        f" {1 - stopped} missed exits (goal 0)"
    )
    print(
        f"    {len(runs)} runs ({sum(r.continued for r in runs)} continue-as-new, after "
        f"{after_events} events): history lengths "
        + ", ".join(str(r.events) for r in runs)
        + "; price signals per run "
        + ", ".join(str(r.signals) for r in runs)
    )
    print(
        f"    CPU µs per update (bench+worker / temporal / postgres{_db(stack_)}): "
        f"{cpu.per(updates, 1e6)}"
    )
    print(f"    CPU ms per bar signalled: {cpu.per(publisher.signals_sent)}")
    _print_rss("worker (bench+publisher+worker process)", fed.samples)
    _print_growth(fed.snapshots, fed.overhead)
    per_100k = "MB per 100k updates"
    by_itself = Anchor("the publisher alone", anchor_rate, "updates/s")
    return [
        Figure(
            "updates through the publisher", throughput, "updates/s", cpu.us_per(updates), by_itself
        ),
        Figure("the publisher alone", anchor_rate, "updates/s", anchor_cpu.us_per(updates), None),
        Figure("bars signalled", publisher.signals_sent, "bars", None, None),
        Figure("price signals received by the campaign", received, "signals", None, None),
        Figure("the exit after the last update", settled, "s", None, None),
        Figure("missed exits (goal 0)", 1 - stopped, "campaigns", None, None),
        Figure("runs (continued as new)", len(runs), "runs", None, None),
        Figure(
            "worker RSS growth after warm-up",
            slope_per_100k(fed.samples[1:]),
            per_100k,
            None,
            Anchor("the publisher alone", slope_per_100k(anchor.samples[1:]), per_100k),
        ),
    ]


async def until_open(engine: AsyncEngine) -> None:
    """Until the read model lists the campaign open (the publisher's directory reads it)."""
    while True:
        async with engine.connect() as conn:
            opened = (
                await conn.execute(select(func.count()).where(campaigns.c.closed_at.is_(None)))
            ).scalar_one()
        if opened:
            return
        await asyncio.sleep(0.2)


async def exits(engine: AsyncEngine) -> int:
    """Campaigns that placed a stop (or invalidation) exit."""
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count(func.distinct(orders.c.campaign_id))).where(
                        orders.c.purpose.in_(("STOP", "INVALIDATION"))
                    )
                )
            ).scalar_one()
        )
