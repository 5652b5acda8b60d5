"""What the scale benchmark runs on: a Temporal dev server, PostgreSQL, the campaign worker
(rebuilt with other settings between phases), and the counts read back afterwards (the SDK's
metrics, the workflow histories).

Kept apart from ``scale_bench`` so that each phase there reads as what it measures."""

import asyncio
import contextlib
import signal
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psutil
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    MetricBuffer,
    Runtime,
    TelemetryConfig,
)
from temporalio.testing import WorkflowEnvironment

from bench.micro.cpu import watch_postgres
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.market import EntrySignal, TradingRange
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.databases import own_database
from campaign_engine.stack.processes import WORKER, python_child, service_env
from campaign_engine.stack.temporal_server import local_temporal
from campaign_engine.worker import CampaignWorker, build_worker

D = Decimal


def trading_range(symbol: str, n: int) -> TradingRange:
    return TradingRange(
        id=uuid.uuid5(UUID(int=11), f"{symbol}-{n}"),
        symbol=symbol,
        timeframe="1h",
        start_time=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=n),
        creek=D("145"),
        ice=D("150"),
        jump=D("156"),
    )


def spring(rng: TradingRange, risk_pct: Decimal) -> EntrySignal:
    """A Spring at 148.50, stop 147.00: a price of 146.50 stops it out."""
    return EntrySignal(
        signal_id=uuid.uuid4(),
        symbol=rng.symbol,
        timeframe="1h",
        trading_range=rng,
        pattern=Pattern.SPRING,
        entry_price=D("148.50"),
        stop_loss=D("147.00"),
        confidence=D(80),
        r_multiple=D(3),
        requested_risk_pct=risk_pct,
        generated_at=datetime.now(UTC),
    )


@dataclass
class Metrics:
    """The worker's SDK metrics, drained from the runtime's buffer now and then: counters
    summed by name, histograms counted and summed by name, gauges as last seen."""

    buffer: MetricBuffer
    counts: Counter[str] = field(default_factory=Counter)
    sums: dict[str, float] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)

    def drain(self) -> None:
        for update in self.buffer.retrieve_updates():
            name, kind = update.metric.name, update.metric.kind
            if kind == BUFFERED_METRIC_KIND_COUNTER:
                self.counts[name] += int(update.value)
            elif kind == BUFFERED_METRIC_KIND_HISTOGRAM:
                self.counts[name] += 1
                self.sums[name] = self.sums.get(name, 0.0) + float(update.value)
            else:
                self.gauges[name] = float(update.value)

    def take(self) -> tuple[Counter[str], dict[str, float]]:
        """Counts and sums since the last take."""
        self.drain()
        counts, sums = self.counts, self.sums
        self.counts, self.sums = Counter(), {}
        return counts, sums


@dataclass
class Stack:
    env: WorkflowEnvironment
    url: str
    metrics: Metrics
    equity: Decimal
    policy: Policy

    @property
    def database(self) -> str | None:
        """The bench's own database on a shared server (None: the embedded server's)."""
        name = self.url.rsplit("/", 1)[-1].split("?")[0]
        return name if name.startswith("ce_scale_") else None

    @property
    def temporal(self) -> Client:
        return self.env.client

    def settings(self, **overrides: Any) -> Settings:
        return Settings(
            database_url=self.url,
            metrics_port=None,
            task_queue="campaigns-scale",
            account_equity=self.equity,
            configured_policy=self.policy,
            **overrides,
        )

    def client(self, settings: Settings) -> CampaignClient:
        return CampaignClient(
            self.temporal,
            policy=settings.policy,
            task_queue=settings.task_queue,
            continue_as_new_after_events=settings.continue_as_new_after_events,
            reconcile_every_seconds=settings.reconcile_every_seconds,
        )

    @asynccontextmanager
    async def worker(self, settings: Settings, processes: int = 1) -> AsyncIterator[CampaignWorker]:
        """The worker in this process and ``processes - 1`` more, each ``python -m
        campaign_engine.worker`` on the same task queue, polling before this one starts (else
        the first campaigns' runs would all be cached here, and their tasks stay here)."""
        async with self._worker_processes(settings, processes - 1):
            engine = create_engine_for(self.url)
            worker = build_worker(self.temporal, engine, settings, channels=[])
            async with worker:
                yield worker
            await engine.dispose()

    def worker_processes(
        self, settings: Settings, count: int
    ) -> "contextlib.AbstractAsyncContextManager[None]":
        """``count`` worker processes alone (no worker in this process)."""
        return self._worker_processes(settings, count)

    @asynccontextmanager
    async def _worker_processes(self, settings: Settings, count: int) -> AsyncIterator[None]:
        if count < 1:
            yield
            return
        folder = Path(tempfile.mkdtemp(prefix="ce-scale-workers-"))
        policy_file = folder / "policy.toml"
        groups = "\n".join(f'{s} = "{g}"' for s, g in settings.policy.correlation_groups.items())
        policy_file.write_text(f"[correlation_groups]\n{groups}\n")
        env = service_env(
            self.temporal.service_client.config.target_host,
            self.url,
            namespace=self.temporal.namespace,
            campaigns_task_queue=settings.task_queue,
            account_equity=str(self.equity),
            campaigns_policy=str(policy_file),
            campaigns_workflow_cache=str(settings.workflow_cache_size),
            campaigns_workflow_tasks=str(settings.workflow_task_slots),
            campaigns_reconcile_every=str(settings.reconcile_every_seconds),
        )
        workers = [python_child(f"worker-{n}", WORKER, folder, env) for n in range(count)]
        for worker in workers:
            worker.start()
        try:
            await _until_polled(self.temporal, settings.task_queue, count)
            print(f"  {count} more worker process(es) polling (logs in {folder})")
            yield
        finally:
            for worker in workers:
                worker.signal(signal.SIGTERM)
            for worker in workers:
                worker.stop(30)


@asynccontextmanager
async def stack(equity: Decimal, policy: Policy) -> AsyncIterator[Stack]:
    """A dev server and a fresh database (the embedded server, or a new database on the
    server ``DATABASE_URL`` names)."""
    with own_database("ce_scale_") as database:
        if database.data_dir is not None:
            watch_postgres(data_dir=str(database.data_dir))
        else:
            watch_postgres(database=database.name)
        async with _stack_on(database.url, equity, policy) as stack_:
            yield stack_


@asynccontextmanager
async def _stack_on(url: str, equity: Decimal, policy: Policy) -> AsyncIterator[Stack]:
    engine = create_engine_for(url, pool_size=1)
    await CampaignRepository(engine).ensure_portfolio(equity)
    await engine.dispose()
    buffer = MetricBuffer(1_000_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    env = await local_temporal(runtime)
    metrics = Metrics(buffer)
    drain = asyncio.create_task(_keep_draining(metrics))
    try:
        yield Stack(
            env, url, metrics, equity, policy.model_copy(update={"starting_equity": equity})
        )
    finally:
        drain.cancel()
        await env.shutdown()


async def _until_polled(temporal: Client, task_queue: str, pollers: int) -> None:
    """Until ``pollers`` workers poll the queue's workflow tasks (each worker has one
    identity)."""
    request = DescribeTaskQueueRequest(
        namespace=temporal.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = await temporal.workflow_service.describe_task_queue(request)
        if len({p.identity for p in described.pollers}) >= pollers:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{pollers} worker(s) did not poll {task_queue} within 120 s")


async def _keep_draining(metrics: Metrics) -> None:
    while True:
        await asyncio.sleep(0.5)
        metrics.drain()


async def open_campaigns(
    client: CampaignClient, signals: Sequence[EntrySignal], concurrency: int = 32
) -> list[bool]:
    """Submit each signal (its own campaign), ``concurrency`` at a time; whether each was
    approved."""
    limit = asyncio.Semaphore(concurrency)

    async def one(signal: EntrySignal) -> bool:
        async with limit:
            plan = await client.submit(signal)
        if not plan.approved:
            refusals[plan.rejection_reason or ""] += 1
        return plan.approved

    refusals: Counter[str] = Counter()
    try:
        return list(await asyncio.gather(*(one(s) for s in signals)))
    finally:
        if refusals:
            print(f"  refused: {dict(refusals.most_common(5))}")


def worker_rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def workers_rss_mb() -> list[float]:
    """The RSS of this process's worker, then of each worker process the bench started."""
    me = psutil.Process()
    others = [p for p in me.children() if p.name().startswith("python")]
    return [worker_rss_mb()] + [p.memory_info().rss / 2**20 for p in others]


async def until_closed(engine: AsyncEngine, started: float, deadline: float) -> float:
    """Seconds from ``started`` until no campaign is open (or the deadline)."""
    while time.perf_counter() - started < deadline:
        async with engine.connect() as conn:
            still_open = (
                await conn.execute(select(func.count()).where(campaigns.c.closed_at.is_(None)))
            ).scalar_one()
        if still_open == 0:
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - started
