"""Composition root: settings, database, broker, channels, activities and workflows wired
into one Temporal worker on the ``campaigns`` task queue.

    python worker.py        # or: campaigns worker

Configuration comes from the environment (see campaign_engine.runtime.settings and
docs/operating.md).
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import psycopg
import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from campaign_engine import workflows as workflows_package
from campaign_engine.activities.broker import BrokerActivities
from campaign_engine.activities.effects import EffectActivities
from campaign_engine.activities.persistence import PersistenceActivities
from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.brokers.protocol import Broker
from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.db.bootstrap import prepare_database
from campaign_engine.db.engine import DEFAULT_POOL_SIZE
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.runtime import tracing
from campaign_engine.runtime.backoff import Backoff, Retry
from campaign_engine.runtime.observability import CorrelationInterceptor, configure_logging
from campaign_engine.runtime.settings import Settings, SettingsError, load_settings
from campaign_engine.runtime.worker_metrics import WorkerMetrics
from campaign_engine.services.holdings_reconciler import (
    CampaignHoldingReports,
    HoldingsReconciler,
)
from campaign_engine.services.notifications import Channel, LogChannel, WebhookChannel
from campaign_engine.services.outbox_relay import OutboxRelay
from campaign_engine.temporal.connection import connect, runtime_with_metrics
from campaign_engine.temporal.sandbox import ContextOutsideSandboxRunner, precompile
from campaign_engine.workflows.campaign import CampaignWorkflow

log = structlog.get_logger("campaign_engine.worker")

T = TypeVar("T")

# The pure domain, the message models and the workflow's helper modules (deterministic, no
# state at module level) are shared with the sandbox instead of re-imported for every workflow
# run: only the workflow's own module is executed again for each new run. Re-importing the
# helpers was 3-4% of a worker's CPU over entry pairs (bench/stack/temporal_bench.py profile).
PASSTHROUGH = (
    "campaign_engine.temporal.converter",
    "campaign_engine.domain",
    "campaign_engine.temporal.messages",
    "campaign_engine.workflows.activities",
    "campaign_engine.workflows.broker_link",
    "campaign_engine.workflows.broker_poll",
    "campaign_engine.workflows.changes",
    "campaign_engine.workflows.commands",
    "campaign_engine.workflows.details",
    "campaign_engine.workflows.payloads",
    "campaign_engine.workflows.price_inbox",
    "campaign_engine.workflows.quarantine",
    "campaign_engine.workflows.refusals",
    "campaign_engine.workflows.trace_context",
    # One OpenTelemetry context per task, shared with the tracing interceptors outside.
    "opentelemetry",
    "pydantic",
    "pydantic_core",
)


def workflow_runner() -> ContextOutsideSandboxRunner:
    """The sandbox every campaign run (and every replay of one) runs in."""
    precompile(workflows_package)
    return ContextOutsideSandboxRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def channels_for(settings: Settings) -> list[Channel]:
    channels: list[Channel] = [LogChannel()]
    if settings.notify_webhook_url:
        channels.append(WebhookChannel(settings.notify_webhook_url))
    return channels


Companion = AbstractAsyncContextManager[Any]
"""Something that runs beside the worker while it runs (a broker's connections, its feed)."""


def brokerage_for(
    settings: Settings, engine: AsyncEngine, client: Client
) -> tuple[Broker, list[Companion]]:
    """The broker ``BROKER`` names, and what must run with it: the paper broker (the default);
    the simulated one, whose exchange runs in the API process (``campaign_engine.api.app``);
    or Alpaca, with its HTTP client and the trade-updates listener that pushes fills to the
    campaigns."""
    if settings.broker == "sim":
        return SimBroker(engine, settings.sim), []
    if settings.broker == "alpaca":
        # Imported here: only an Alpaca worker loads the HTTP and websocket clients.
        from campaign_engine.brokers.alpaca.broker import AlpacaBroker
        from campaign_engine.brokers.alpaca.stream import TradeUpdatesListener
        from campaign_engine.brokers.updates import CampaignOrderUpdates

        config = settings.alpaca_config()
        alpaca = AlpacaBroker(config)
        listener = TradeUpdatesListener(config, alpaca, CampaignOrderUpdates(client))
        return alpaca, [alpaca, listener]
    return PaperBroker(engine), []


class CampaignWorker:
    """The Temporal worker and the outbox relay, run together (``async with``): wherever
    campaigns run, their events are announced. ``worker`` is the Temporal worker;
    ``companions`` run around both (started first, stopped last): the broker's connections,
    then the holdings reconciler that reads the broker through them."""

    def __init__(
        self, worker: Worker, relay: OutboxRelay, companions: Sequence[Companion] = ()
    ) -> None:
        self.worker = worker
        self.relay = relay
        self.companions = tuple(companions)
        self._running: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> Self:
        async with contextlib.AsyncExitStack() as stack:
            for companion in self.companions:
                await stack.enter_async_context(companion)
            # The relay outlives the worker on the way out, so that it still announces what
            # the worker's last activities persisted while shutting down.
            await stack.enter_async_context(self.relay)
            await stack.enter_async_context(self.worker)
            self._running = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        running, self._running = self._running, None
        if running is not None:
            await running.__aexit__(exc_type, exc, traceback)


def build_worker(
    client: Client,
    engine: AsyncEngine,
    settings: Settings,
    *,
    broker: Broker | None = None,
    channels: Sequence[Channel] | None = None,
) -> CampaignWorker:
    meter = (client.service_client.config.runtime or Runtime.default()).metric_meter
    metrics = WorkerMetrics(meter, broker=settings.broker)
    repository = CampaignRepository(engine, settings.policy, lock_waited=metrics.lock_waited)
    companions: list[Companion] = []
    if broker is None:
        broker, companions = brokerage_for(settings, engine, client)
    chosen_broker = broker
    # Last among the companions: started once the broker's connections are up, stopped first.
    companions = [
        *companions,
        HoldingsReconciler(
            engine,
            chosen_broker,
            CampaignHoldingReports(client),
            interval=timedelta(seconds=settings.reconcile_every_seconds),
            meter=meter,
        ),
    ]
    persistence = PersistenceActivities(repository)
    brokerage = BrokerActivities(chosen_broker, engine)
    effects = EffectActivities(repository, chosen_broker, metrics=metrics)
    relay = OutboxRelay(engine, channels if channels is not None else channels_for(settings))
    # No more activities at once than the database pool can serve: an activity's timeout
    # starts when it starts, so one that only waited for a connection would time out for
    # nothing, and its retry would add to the queue it waited in. Regular and local activities
    # share the pool (its size and as many again in overflow), so they split it, one
    # connection kept for the outbox relay: with each allowed the whole pool, a thousand
    # entries at once had local reservations (queued on the portfolio's lock) hold every
    # connection while regular ``carry_out``s waited past their timeout (20 retried).
    local_slots = DEFAULT_POOL_SIZE
    regular_slots = DEFAULT_POOL_SIZE - 1
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        max_concurrent_activities=regular_slots,
        max_concurrent_local_activities=local_slots,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=settings.sticky_timeout_seconds),
        max_cached_workflows=settings.workflow_cache_size,
        max_concurrent_workflow_tasks=settings.workflow_task_slots,
        workflows=[CampaignWorkflow],
        activities=[
            persistence.load_campaign,
            persistence.load_and_reserve,
            persistence.reserve_risk,
            effects.carry_out,
            brokerage.get_order,
            brokerage.broker_holding,
        ],
        interceptors=[CorrelationInterceptor()],
        workflow_runner=workflow_runner(),
    )
    return CampaignWorker(worker, relay, companions)


async def when_up(what: str, start: Callable[[], Awaitable[T]]) -> T:
    """``start()`` once ``what`` answers: a worker started before its database or Temporal
    (a host booting, a compose file) waits for them, logging one line while it does and one
    when they answer, instead of exiting. A configuration that cannot work still fails."""
    retry = Retry(what, log, loop="worker_start", backoff=Backoff(start=0.5, cap=10.0))
    while True:
        try:
            started = await start()
        except (OSError, psycopg.OperationalError, OperationalError) as error:
            await retry.pause(error)
        except RuntimeError as error:  # how temporalio reports a server it cannot reach
            if "client connect" not in str(error):
                raise
            await retry.pause(error)
        else:
            retry.succeeded()
            return started


async def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    engine = await when_up("database", lambda: prepare_database(settings))
    runtime = runtime_with_metrics(settings.metrics_port)
    client = await when_up("temporal", lambda: connect(settings, runtime))
    worker = build_worker(client, engine, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker_started",
        task_queue=settings.task_queue,
        temporal=settings.temporal_address,
        namespace=settings.temporal_namespace,
        metrics_port=settings.metrics_port,
        broker=settings.broker,
    )
    async with worker:
        await stop.wait()
        log.info("worker_stopping")
    await engine.dispose()


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"error: {error}") from None
    tracing.start(tracing.WORKER)  # before the client is made: it carries the interceptors
    asyncio.run(serve(settings))
    tracing.stop()  # os._exit below runs no exit handler: the last spans go out now
    logging.shutdown()
    # temporalio can abort the interpreter while it finalizes (sdk-python#300): a worker that
    # stopped cleanly exits 0 rather than with that abort.
    os._exit(0)


if __name__ == "__main__":
    main()
