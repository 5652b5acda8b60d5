"""The scale benchmark's longer phases: a long stream of prices, and a burst of entries against
the portfolio's limits (many open campaigns under each workflow cache size: ``scale_cache``)."""

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.micro.cpu import CpuWindow
from bench.micro.raw_anchor import RawAnchor
from bench.micro.raw_runs import RAW_QUEUE, raw_signal_throughput
from bench.record import Anchor, Figure
from bench.scale.scale_histories import count_retries
from bench.scale.scale_stack import (
    Stack,
    open_campaigns,
    spring,
    trading_range,
    until_closed,
)
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import allocation_plans, campaign_snapshots, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.publisher import DatabaseDirectory

D = Decimal
SYMBOLS = [f"F{i}" for i in range(10)]
QUIET = D("148.60")  # inside every Spring's stop and first target: changes nothing
WFT = "temporal_workflow_task_schedule_to_start_latency"  # one count per task started


async def price_round(client: CampaignClient, stack_: Stack, price: Decimal, n: int) -> float:
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


async def prices(stack_: Stack, count: int, updates: int) -> list[Figure]:
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
                await price_round(client, stack_, price, n)
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
    raw_signals = Anchor("raw signals to as many workflows", raw, "signals/s")
    return [
        Figure("price updates sent", total / sent, "updates/s", cpu.us_per(total), raw_signals),
        Figure("updates taken, every exit carried out", total / settled, "updates/s", None, None),
        Figure("missed crossings (goal 0)", count - stopped, "campaigns", None, None),
        retries.figure(),
    ]


async def entries(stack_: Stack, count: int) -> list[Figure]:
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
    return [
        Figure("entries answered at once", count / took, "entries/s", cpu.us_per(count), None),
        Figure("entries approved", sum(approved), "entries", None, None),
        Figure("every change saved after the last answer", saved, "s", None, None),
        Figure("heat (limit 10%)", float(heat), "%", None, None),
        Figure("largest heat_after_pct (limit 10%)", float(worst_heat), "%", None, None),
        *(
            Figure(f"group {g} risk (limit 6%)", float(r), "%", None, None)
            for g, r in sorted(by_group.items())
        ),
        retries.figure(),
    ]


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
