"""Campaigns at scale on one worker, on a real Temporal dev server and PostgreSQL.

    .venv/bin/python -m bench.scale.scale_bench flood [--campaigns 1000] [--workers 2] \
        [--task-slots 100]
    .venv/bin/python -m bench.scale.scale_bench cache [--campaigns 10000] [--cache-sizes 10000] \
        [--workers 1,2] [--task-slots 10]
    .venv/bin/python -m bench.scale.scale_bench prices [--campaigns 1000] [--updates 100000]
    .venv/bin/python -m bench.scale.scale_bench entries [--campaigns 1000]
    .venv/bin/python -m bench.scale.scale_bench million [--updates 1000000] [--after-events 200]
        [--interval-ms 500] [--rate 0] [--retention 10000] [--trace]

Every phase takes ``--notes TEXT`` and records its figures as ``bench/results/scale_<phase>.json``.

- flood: N campaigns stop out on one price per symbol: the time from the price to the last
  exit, the activities retried or timed out (from the closed runs' histories) and the exits
  missed, CPU per exit;
- cache: N open campaigns on one worker, a round of prices to all of them with each workflow
  cache size: the worker's RSS per cached campaign, the replays (cache misses) and CPU per
  price, the broker polls' cost per poll, and an entry's answer time while the prices flow;
- prices: U price updates over N campaigns, the last crossing every stop: updates/s beside
  raw signals/s and the crossings missed;
- entries: N entries at once asking more risk than the limits allow: the heat and every
  correlation group's risk, summed from the approved plans in the database;
- million: one campaign through U price updates via the publisher, across continue-as-new
  (after ``--after-events`` history events): updates/s beside the publisher alone, the runs,
  the worker's RSS along the way (``--trace``: what grew, by tracemalloc), the exit at the end.

Each figure is printed beside its anchor, and CPU per operation beside the time (bench and
worker / Temporal dev server / PostgreSQL processes), the steadier figure on a shared machine.
The dev server and database are fresh for each run (``DATABASE_URL``: a new database there).
"""

import argparse
import asyncio
import os
import platform
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bench.micro.cpu import CpuWindow
from bench.record import Figure, add_notes_argument, record
from bench.scale.scale_cache import cache
from bench.scale.scale_histories import count_retries
from bench.scale.scale_million import million
from bench.scale.scale_phases import entries, prices
from bench.scale.scale_stack import (
    Stack,
    open_campaigns,
    spring,
    stack,
    trading_range,
    until_closed,
)
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import campaigns, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.policy import Policy
from campaign_engine.price_feed.publisher import DatabaseDirectory
from campaign_engine.runtime.settings import WORKFLOW_TASK_SLOTS

D = Decimal
PHASES = ("flood", "cache", "prices", "entries", "million")
EQUITY = D("10000000")
SYMBOLS = [f"F{i}" for i in range(10)]
# The entries phase's symbols, in two correlation groups (the flood's are each their own).
POLICY = Policy(correlation_groups={f"E{i}": "tech" if i < 5 else "energy" for i in range(10)})


async def wait_open(stack_: Stack, count: int) -> None:
    engine = create_engine_for(stack_.url, pool_size=1)
    try:
        while True:
            async with engine.connect() as conn:
                opened = (
                    await conn.execute(select(func.count()).where(campaigns.c.closed_at.is_(None)))
                ).scalar_one()
            if opened >= count:
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()


async def flood(stack_: Stack, count: int, workers: int = 1, **settings: Any) -> list[Figure]:
    """Every campaign stops out on one price per symbol (on ``workers`` workers)."""
    config = stack_.settings(**settings)
    client = stack_.client(config)
    signals = [spring(trading_range(SYMBOLS[i % 10], i), D(5) / count) for i in range(count)]
    ids = [s.campaign_id for s in signals]
    async with stack_.worker(config, processes=workers):
        started = time.perf_counter()
        approved = await open_campaigns(client, signals)
        assert all(approved), f"{approved.count(False)} entries refused"
        await wait_open(stack_, count)
        print(
            f"  {count} campaigns opened in {time.perf_counter() - started:.0f} s "
            f"({config.workflow_task_slots} workflow tasks at once per worker)"
        )
        stack_.metrics.take()
        engine = create_engine_for(stack_.url, pool_size=2)
        publisher = client.publisher(DatabaseDirectory(engine), interval=timedelta(hours=1))
        with CpuWindow() as cpu:
            started = time.perf_counter()
            for symbol in SYMBOLS:
                await publisher.publish(
                    PriceUpdate(symbol=symbol, as_of=datetime.now(UTC), price=D("146.50"))
                )
            await publisher.flush()
            sent = time.perf_counter() - started
            last_exit = await until_closed(engine, started, deadline=600)
        counts, sums = stack_.metrics.take()
        async with engine.connect() as conn:
            stopped = (
                await conn.execute(
                    select(func.count(func.distinct(orders.c.campaign_id))).where(
                        orders.c.purpose.in_(("STOP", "INVALIDATION"))
                    )
                )
            ).scalar_one()
        await engine.dispose()
    retries = await count_retries(stack_.temporal, ids)
    timeouts = retries.retried_or_timed_out
    print(
        f"  flood of {count} stop-outs: last exit {last_exit:.1f} s after the price "
        f"(sent in {sent:.1f} s; goal < 18 s), {timeouts} activity timeouts/retries "
        f"(goal 0), {count - stopped} missed exits (goal 0)"
    )
    print(f"  histories: {retries}")
    print(f"  CPU ms per exit (bench+worker / temporal / postgres): {cpu.per(count)}")
    _print_metrics(counts, sums)
    return [
        Figure("last exit after the price (goal < 18 s)", last_exit, "s", cpu.us_per(count), None),
        Figure("the price sent to every campaign", sent, "s", None, None),
        retries.figure(),
        Figure("missed exits (goal 0)", count - stopped, "campaigns", None, None),
    ]


WATCHED = (
    "temporal_activity_execution_failed",
    "temporal_local_activity_execution_failed",
    "temporal_local_activity_execution_cancelled",
    "temporal_local_activity_total",
    "temporal_activity_schedule_to_start_latency",
    "temporal_activity_execution_latency",
    "temporal_local_activity_execution_latency",
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_workflow_task_execution_latency",
    "temporal_workflow_task_replay_latency",
    "temporal_workflow_task_execution_failed",
    "temporal_sticky_cache_hit",
    "temporal_sticky_cache_miss",
    "temporal_sticky_cache_total_forced_eviction",
)


def _print_metrics(counts: Mapping[str, int], sums: Mapping[str, float]) -> None:
    print("  worker metrics (count, mean ms for latencies):")
    for name in WATCHED:
        if name in counts:
            mean = f"  mean {sums[name] / counts[name]:.1f} ms" if name in sums else ""
            print(f"    {name:<52} {counts[name]:>8}{mean}")


async def main(args: argparse.Namespace) -> list[Figure]:
    print(
        f"campaign-engine scale benchmark, phase {args.phase}, CPython "
        f"{sys.version.split()[0]} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    async with stack(EQUITY, POLICY) as stack_:
        if args.phase == "flood":
            figures = await flood(
                stack_,
                args.campaigns,
                workers=int(args.workers),
                workflow_task_slots=args.task_slots,
            )
        elif args.phase == "cache":
            sizes = [int(size) for size in args.cache_sizes.split(",")]
            workers = [int(n) for n in args.workers.split(",")]
            figures = await cache(
                stack_, args.campaigns, sizes, workers=workers, task_slots=args.task_slots
            )
        elif args.phase == "prices":
            figures = await prices(stack_, args.campaigns, args.updates)
        elif args.phase == "million":
            figures = await million(
                stack_,
                args.updates,
                args.after_events,
                args.interval_ms,
                args.rate,
                args.trace,
                args.retention,
            )
        else:
            figures = await entries(stack_, args.campaigns)
    print(f"  load at the end {os.getloadavg()[0]:.2f}")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=PHASES)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--cache-sizes", default="1000,10000")
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        default="1",
        help="workers on the task queue, the bench's own and N-1 processes (cache: a list, "
        "1,2, each in turn); the SDK metrics printed are the bench's worker's only",
    )
    parser.add_argument("--after-events", type=int, default=200)
    parser.add_argument("--interval-ms", type=int, default=500)  # the API's publisher's
    parser.add_argument("--rate", type=float, default=0)  # updates/s; 0: as fast as they go
    parser.add_argument("--retention", type=int, default=10_000)  # the publisher's bars kept
    parser.add_argument("--trace", action="store_true")
    parser.add_argument(
        "--task-slots",
        type=int,
        default=WORKFLOW_TASK_SLOTS,
        help="flood, cache: workflow tasks each worker runs at once (CAMPAIGNS_WORKFLOW_TASKS)",
    )
    add_notes_argument(parser)
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    record(f"scale_{arguments.phase}", "scale", figures, arguments.notes)
    sys.stdout.flush()
    os._exit(0)
