"""The scale benchmark's longer phases: many open campaigns under each workflow cache size,
a long stream of prices, and a burst of entries against the portfolio's limits."""

import asyncio
import gc
import itertools
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.micro.cpu import CpuWindow
from bench.micro.raw_anchor import RawAnchor
from bench.micro.raw_runs import RAW_QUEUE, raw_signal_throughput
from bench.scale.scale_histories import count_retries
from bench.scale.scale_stack import (
    Stack,
    open_campaigns,
    spring,
    trading_range,
    until_closed,
    worker_rss_mb,
    workers_rss_mb,
)
from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import allocation_plans, campaign_snapshots, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.publisher import DatabaseDirectory
from campaign_engine.runtime.settings import WORKFLOW_TASK_SLOTS
from campaign_engine.services.holdings_reconciler import HoldingsReconciler
from campaign_engine.temporal.messages import HoldingReport

D = Decimal
SYMBOLS = [f"F{i}" for i in range(10)]
QUIET = D("148.60")  # inside every Spring's stop and first target: changes nothing
WFT = "temporal_workflow_task_schedule_to_start_latency"  # one count per task started


async def _price_round(client: CampaignClient, stack_: Stack, price: Decimal, n: int) -> float:
    """One price per symbol, flushed to every open campaign on it; seconds to send."""
    engine = create_engine_for(stack_.url, pool_size=1)
    publisher = client.publisher(DatabaseDirectory(engine), interval=timedelta(hours=1))
    started = time.perf_counter()
    as_of = datetime.now(UTC) + timedelta(milliseconds=n)
    for symbol in SYMBOLS:
        await publisher.publish(PriceUpdate(symbol=symbol, as_of=as_of, price=price))
    await publisher.flush()
    await engine.dispose()
    return time.perf_counter() - started


async def tasks_per_second(stack_: Stack, seconds: float) -> tuple[float, CpuWindow]:
    """Workflow tasks the worker starts a second with no prices coming (the broker polls),
    and the CPU they take."""
    stack_.metrics.take()
    with CpuWindow() as cpu:
        await asyncio.sleep(seconds)
    counts, _ = stack_.metrics.take()
    return counts[WFT] / seconds, cpu


async def _until_drained(
    stack_: Stack, baseline: float, deadline: float
) -> tuple[float, Counter[str]]:
    """Seconds until the worker's task rate is back to the polls' baseline for three seconds
    in a row (one quiet second proves nothing while long tasks run: their completions come in
    bursts), and the metrics counted meanwhile."""
    started = time.perf_counter()
    total: Counter[str] = Counter()
    quiet_since: float | None = None
    await asyncio.sleep(1)
    while time.perf_counter() - started < deadline:
        window = time.perf_counter()
        await asyncio.sleep(1)
        counts, _ = stack_.metrics.take()
        total += counts
        if counts[WFT] > 1.5 * baseline * (time.perf_counter() - window) + 2:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = window
        elif time.perf_counter() - quiet_since >= 3:
            return quiet_since - started, total
    return time.perf_counter() - started, total


async def cache(
    stack_: Stack,
    count: int,
    sizes: list[int],
    entries: int = 10,
    workers: Sequence[int] = (1,),
    task_slots: int = WORKFLOW_TASK_SLOTS,
) -> None:
    """``count`` open campaigns; for each cache size, ``workers`` workers that start cold take
    two rounds of quiet prices (the second is the measured one) while entries are timed. With
    more than one, the round is taken as drained when this process's worker is (the others'
    tasks are not in its metrics), and each worker's RSS is printed after it."""
    signals = [spring(trading_range(SYMBOLS[i % 10], i), D(5) / count) for i in range(count)]
    opening = stack_.settings(workflow_cache_size=count, workflow_task_slots=task_slots)
    client = stack_.client(opening)
    gc.collect()
    rss_before = worker_rss_mb()
    async with stack_.worker(opening):
        started = time.perf_counter()
        approved = await open_campaigns(client, signals)
        took = time.perf_counter() - started
        gc.collect()
        rss = worker_rss_mb()
        print(
            f"  {sum(approved)} of {count} campaigns opened in {took:.0f} s; worker RSS "
            f"{rss_before:.0f} -> {rss:.0f} MB with all of them cached "
            f"({1024 * (rss - rss_before) / count:.0f} KB per campaign)"
        )
    for size, processes in itertools.product(sizes, workers):
        settings = stack_.settings(workflow_cache_size=size, workflow_task_slots=task_slots)
        async with stack_.worker(settings, processes=processes):
            polls, _ = await tasks_per_second(stack_, 5)
            await _price_round(client, stack_, QUIET, 0)  # cold: every run replays
            await _until_drained(stack_, polls, deadline=1800)
            polls, idle = await tasks_per_second(stack_, 10)
            with CpuWindow() as cpu:
                timing = asyncio.create_task(_time_entries(client, entries, size))
                await _price_round(client, stack_, QUIET, 1)
                took, counts = await _until_drained(stack_, polls, deadline=600)
                latencies = await timing
            resident = " / ".join(f"{mb:.0f}" for mb in workers_rss_mb())
        tasks = counts[WFT]
        evicted = counts["temporal_sticky_cache_total_forced_eviction"]
        idle_share = {g: s * took / 10 for g, s in idle.seconds.items()}
        cpu.seconds = {g: cpu.seconds[g] - idle_share[g] for g in cpu.seconds}
        print(
            f"  cache {size:>6}, {processes} worker(s), {task_slots} tasks at once each: a round "
            f"of {count} prices taken in {took:.1f} s, {tasks} "
            f"tasks (polls' too), {evicted} runs evicted from the cache (each replays its "
            "history at its next task)"
        )
        print(f"    CPU ms per price, polls' share taken out: {cpu.per(count)}")
        print(f"    workers' RSS after the round: {resident} MB")
        print(f"    idle, the broker polls: {polls:.1f} tasks/s, CPU ms per s {idle.per(10)}")
        print(f"    {await _reconciler_round(stack_)}")
        print(
            f"    entry answered during the round: p50 {statistics.median(latencies):.0f} ms, "
            f"max {max(latencies):.0f} ms ({len(latencies)} entries, one after another)"
        )


class _Reports:
    def __init__(self) -> None:
        self.sent = 0

    async def deliver(self, report: HoldingReport) -> bool:
        self.sent += 1
        return True


async def _reconciler_round(stack_: Stack) -> str:
    """One round of the holdings reconciler over every open campaign (what replaced their
    broker polls), timed: the worker's own runs every ``CAMPAIGNS_RECONCILE_EVERY``."""
    engine = create_engine_for(stack_.url, pool_size=2)
    reports = _Reports()
    reconciler = HoldingsReconciler(
        engine, PaperBroker(engine), reports, interval=timedelta(seconds=300)
    )
    try:
        started = time.perf_counter()
        with CpuWindow() as cpu:
            done = None
            while done is None:  # the worker's reconciler may hold the lock a moment
                done = await reconciler.reconcile_once()
        took = 1000 * (time.perf_counter() - started)
    finally:
        await engine.dispose()
    return (
        f"a holdings reconciler round: {len(done.read)} symbols read at the broker, "
        f"{len(done.reports)} campaigns short, in {took:.0f} ms, CPU ms {cpu.per(1)}"
    )


async def _time_entries(client: CampaignClient, count: int, salt: int) -> list[float]:
    """First entries of new campaigns, one after another, each timed."""
    latencies = []
    for i in range(count):
        signal = spring(trading_range("G0", 50_000 + salt + i), D("0.01"))
        started = time.perf_counter()
        await client.submit(signal)
        latencies.append(1000 * (time.perf_counter() - started))
    return latencies


async def prices(stack_: Stack, count: int, updates: int) -> None:
    """``updates`` price signals over ``count`` campaigns, in rounds of one price per symbol,
    the last crossing every stop; the raw anchor is plain signals to as many workflows."""
    settings = stack_.settings()
    client = stack_.client(settings)
    signals = [spring(trading_range(SYMBOLS[i % 10], i), D(5) / count) for i in range(count)]
    rounds = max(updates // count, 1)
    async with stack_.worker(settings):
        approved = await open_campaigns(client, signals)
        assert all(approved)
        from temporalio.worker import Worker

        async with Worker(stack_.temporal, task_queue=RAW_QUEUE, workflows=[RawAnchor]):
            raw = await raw_signal_throughput(stack_.temporal, count, 5)
        with CpuWindow() as cpu:
            started = time.perf_counter()
            for n in range(rounds):
                price = D("146.50") if n == rounds - 1 else QUIET + D(n % 5) / 10
                await _price_round(client, stack_, price, n)
            sent = time.perf_counter() - started
            engine = create_engine_for(stack_.url, pool_size=1)
            settled = await until_closed(engine, started, deadline=900)
        async with engine.connect() as conn:
            stopped = len(
                (
                    await conn.execute(
                        select(orders.c.campaign_id)
                        .where(orders.c.purpose.in_(("STOP", "INVALIDATION")))
                        .distinct()
                    )
                ).all()
            )
        await engine.dispose()
    retries = await count_retries(stack_.temporal, [s.campaign_id for s in signals])
    total = rounds * count
    print(
        f"  {total} price updates over {count} campaigns: sent at {total / sent:.0f}/s vs raw "
        f"signals {raw:.0f}/s ({total / sent / raw:.2f}x); all taken and every exit carried "
        f"out {settled:.0f} s after the first ({total / settled:.0f}/s); "
        f"{count - stopped} missed crossings (goal 0)"
    )
    print(f"    CPU ms per update (bench+worker / temporal / postgres): {cpu.per(total)}")
    print(f"    histories: {retries}")


async def entries(stack_: Stack, count: int) -> None:
    """``count`` first entries at once, each asking 2% of risk on one of ten symbols in two
    correlation groups: the limits (heat 10%, a group 6%) must hold whatever the order."""
    settings = stack_.settings()
    client = stack_.client(settings)
    symbols = [f"E{i}" for i in range(10)]
    signals = [spring(trading_range(symbols[i % 10], i), D(2)) for i in range(count)]
    with CpuWindow() as cpu:
        async with stack_.worker(settings):
            started = time.perf_counter()
            approved = await open_campaigns(client, signals, concurrency=count)
            took = time.perf_counter() - started
            # Every answer's change saved (a refused entry saves its plan too) before the
            # worker stops, so that no effect is cut short.
            saved = await _until_saved(stack_, count, deadline=300)
    retries = await count_retries(stack_.temporal, [s.campaign_id for s in signals])
    engine = create_engine_for(stack_.url, pool_size=1)
    async with engine.connect() as conn:
        plans = (
            await conn.execute(
                select(
                    allocation_plans.c.symbol,
                    allocation_plans.c.actual_risk_pct,
                    allocation_plans.c.heat_after_pct,
                ).where(allocation_plans.c.approved)
            )
        ).all()
    await engine.dispose()
    by_group: dict[str, Decimal] = defaultdict(Decimal)
    for symbol, risk, _ in plans:
        by_group[stack_.policy.correlation_group(symbol)] += risk
    heat = sum(by_group.values(), D(0))
    worst_heat = max((h for _, _, h in plans if h is not None), default=D(0))
    print(
        f"  {count} entries at once: {sum(approved)} approved in {took:.1f} s "
        f"({count / took:.0f}/s), every change saved {saved:.1f} s after the last answer; "
        f"heat {heat:.2f}% (largest heat_after_pct {worst_heat:.2f}%, "
        f"limit 10.00%); groups "
        + ", ".join(f"{g} {r:.2f}%" for g, r in sorted(by_group.items()))
        + " (limit 6.00%)"
    )
    print(f"    CPU ms per entry (bench+worker / temporal / postgres): {cpu.per(count)}")
    print(f"    histories: {retries}")


async def _until_saved(stack_: Stack, count: int, deadline: float) -> float:
    engine = create_engine_for(stack_.url, pool_size=1)
    started = time.perf_counter()
    while time.perf_counter() - started < deadline:
        async with engine.connect() as conn:
            saved = (
                await conn.execute(select(func.count()).select_from(campaign_snapshots))
            ).scalar_one()
        if saved >= count:
            break
        await asyncio.sleep(0.2)
    await engine.dispose()
    return time.perf_counter() - started
