"""The backtest benchmark's live slice: the same data through the running stack (Temporal dev
server, PostgreSQL, the worker, the client and the price publisher), day by day, each day
waiting until every open campaign took its bar, so that no bars are merged."""

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.stack.backtest_data import Generated, bar_updates
from campaign_engine.domain.market import EntrySignal, PriceUpdate


@dataclass
class Live:
    bars: int
    wall: float
    cpu: dict[str, float]
    plans: int
    waits_timed_out: int


async def live_slice(data: Generated, wait_timeout: float) -> Live:
    """The slice through the running stack, day by day: the day's signals submitted (in
    priority order, as one batch), then each symbol's bar published, all symbols at once; the
    next day once every open campaign on each symbol has taken its bar."""
    from campaign_engine.stack.databases import own_database

    with own_database("ce_bt_bench_") as database:
        return await _live_slice_on(database.url, data, wait_timeout)


async def _live_slice_on(url: str, data: Generated, wait_timeout: float) -> Live:
    from bench.micro.cpu import CPU_GROUPS, cpu_seconds
    from campaign_engine.client.campaign_client import CampaignClient
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.repository import CampaignRepository
    from campaign_engine.price_feed.publisher import DatabaseDirectory, OpenCampaign
    from campaign_engine.runtime.settings import Settings
    from campaign_engine.stack.temporal_server import local_temporal
    from campaign_engine.worker import build_worker

    env = await local_temporal()
    settings = Settings(database_url=url, metrics_port=None, task_queue="backtest-bench")
    engine = create_engine_for(url)
    await CampaignRepository(engine).ensure_portfolio(settings.policy.starting_equity)
    client = CampaignClient(env.client, policy=settings.policy, task_queue=settings.task_queue)
    publisher = client.publisher(DatabaseDirectory(engine), interval=timedelta(0))
    by_day: dict[datetime, list[EntrySignal]] = {}
    for s in data.signals:
        by_day.setdefault(s.generated_at, []).append(s)
    updates: dict[int, list[PriceUpdate]] = {}
    for day, update in bar_updates(data):
        updates.setdefault(day, []).append(update)
    open_on: dict[str, dict[str, datetime]] = {}  # symbol -> campaign id -> opened at
    timed_out = 0
    plans = 0

    async def took(symbol: str, update: PriceUpdate) -> None:
        nonlocal timed_out
        await publisher.publish(update)
        deadline = time.monotonic() + wait_timeout
        waiting = {c for c, at in open_on.get(symbol, {}).items() if at < update.as_of}
        while waiting:
            states = await asyncio.gather(*(client.status(c) for c in waiting))
            for campaign_id, state in zip(list(waiting), states, strict=True):
                if state is None or state.is_closed:
                    open_on[symbol].pop(campaign_id, None)
                    waiting.discard(campaign_id)
                elif state.last_price_at is not None and state.last_price_at >= update.as_of:
                    waiting.discard(campaign_id)
            if waiting and time.monotonic() > deadline:
                timed_out += len(waiting)
                break
            if waiting:
                await asyncio.sleep(0.01)

    async with build_worker(env.client, engine, settings, channels=[]):
        cpu_before, started = cpu_seconds(), time.perf_counter()
        for day, at in enumerate(data.days):
            for plan in await client.submit_batch(by_day.get(at, [])):
                plans += 1
                if plan.approved:
                    opened = open_on.setdefault(plan.symbol, {})
                    if plan.campaign_id not in opened:
                        opened[plan.campaign_id] = at
                        await publisher.opened(plan.symbol, OpenCampaign(plan.campaign_id, at))
            await asyncio.gather(*(took(u.symbol, u) for u in updates.get(day, [])))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds()
    await engine.dispose()
    await env.shutdown()
    return Live(
        bars=data.bar_count,
        wall=wall,
        cpu={g: cpu_after[g] - cpu_before[g] for g in CPU_GROUPS},
        plans=plans,
        waits_timed_out=timed_out,
    )
