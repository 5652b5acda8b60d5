"""The scale benchmark's cache phase: many open campaigns, a round of quiet prices to all of
them under each workflow cache size (and number of workers), entries timed meanwhile, and a
round of the holdings reconciler."""

import asyncio
import gc
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from bench.micro.cpu import CpuWindow
from bench.record import Figure
from bench.scale.scale_phases import QUIET, SYMBOLS, WFT, price_round, tasks_per_second
from bench.scale.scale_stack import (
    Stack,
    open_campaigns,
    spring,
    trading_range,
    worker_rss_mb,
    workers_rss_mb,
)
from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.runtime.settings import WORKFLOW_TASK_SLOTS
from campaign_engine.services.holdings_reconciler import HoldingsReconciler
from campaign_engine.temporal.messages import HoldingReport

D = Decimal


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
) -> list[Figure]:
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
        per_campaign = 1024 * (rss - rss_before) / count
        print(
            f"  {sum(approved)} of {count} campaigns opened in {took:.0f} s; worker RSS "
            f"{rss_before:.0f} -> {rss:.0f} MB with all of them cached "
            f"({per_campaign:.0f} KB per campaign)"
        )
    figures = [Figure("worker RSS per cached campaign", per_campaign, "KB", None, None)]
    for size, processes in itertools.product(sizes, workers):
        settings = stack_.settings(workflow_cache_size=size, workflow_task_slots=task_slots)
        async with stack_.worker(settings, processes=processes):
            polls, _ = await tasks_per_second(stack_, 5)
            await price_round(client, stack_, QUIET, 0)  # cold: every run replays
            await _until_drained(stack_, polls, deadline=1800)
            polls, idle = await tasks_per_second(stack_, 10)
            with CpuWindow() as cpu:
                timing = asyncio.create_task(_time_entries(client, entries, size))
                await price_round(client, stack_, QUIET, 1)
                took, counts = await _until_drained(stack_, polls, deadline=600)
                latencies = await timing
            resident = workers_rss_mb()
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
        print(f"    workers' RSS after the round: {' / '.join(f'{mb:.0f}' for mb in resident)} MB")
        print(f"    idle, the broker polls: {polls:.1f} tasks/s, CPU ms per s {idle.per(10)}")
        reconciled, took_ms, reconcile_cpu = await _reconciler_round(stack_)
        print(f"    {reconciled}")
        print(
            f"    entry answered during the round: p50 {statistics.median(latencies):.0f} ms, "
            f"max {max(latencies):.0f} ms ({len(latencies)} entries, one after another)"
        )
        on = f"cache {size}, {processes} worker(s): "
        figures += [
            Figure(f"{on}a round of prices taken", took, "s", cpu.us_per(count), None),
            Figure(f"{on}runs evicted in the round", evicted, "runs", None, None),
            Figure(f"{on}this worker's RSS after the round", resident[0], "MB", None, None),
            Figure(f"{on}idle broker polls", polls, "tasks/s", None, None),
            Figure(f"{on}a reconciler round", took_ms, "ms", reconcile_cpu, None),
            Figure(f"{on}entry p50 in the round", statistics.median(latencies), "ms", None, None),
            Figure(f"{on}entry max in the round", max(latencies), "ms", None, None),
        ]
    return figures


class _Reports:
    def __init__(self) -> None:
        self.sent = 0

    async def deliver(self, report: HoldingReport) -> bool:
        self.sent += 1
        return True


async def _reconciler_round(stack_: Stack) -> tuple[str, float, float]:
    """One round of the holdings reconciler over every open campaign (what replaced their
    broker polls), timed: the worker's own runs every ``CAMPAIGNS_RECONCILE_EVERY``. Its line,
    its milliseconds and its CPU microseconds."""
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
        f"{len(done.reports)} campaigns short, in {took:.0f} ms, CPU ms {cpu.per(1)}",
        took,
        cpu.us_per(1),
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
