"""The commands that run the stack or its parts: ``dev`` (everything embedded), ``demo``
(play a scenario through a running stack), ``worker`` and ``api``."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from campaign_engine.cli.common import Failure, out, read_settings, run, stop


def dev(
    demo: Annotated[
        bool, typer.Option(help="Play the demo scenario once the stack is up.")
    ] = False,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario file for --demo (default: the packaged demo).")
    ] = None,
    speed: Annotated[float, typer.Option(help="Demo bars per second per symbol.")] = 20.0,
    host: Annotated[str, typer.Option(help="Interface every service binds to.")] = "127.0.0.1",
    temporal_port: int = 7233,
    ui_port: int = 8233,
    api_port: int = 8000,
) -> None:
    """Start the embedded stack: Temporal dev server + UI, PostgreSQL (embedded unless
    DATABASE_URL is set), migrations, worker and REST API. Data stays in CAMPAIGNS_DATA_DIR
    (.data); Ctrl-C stops everything."""
    from campaign_engine.stack.dev import DevOptions, run_dev
    from campaign_engine.stack.processes import StackError

    options = DevOptions(
        host=host,
        temporal_port=temporal_port,
        ui_port=ui_port,
        api_port=api_port,
        demo=demo,
        scenario=scenario,
        demo_speed=speed,
    )

    async def main() -> int:
        try:
            code = await run_dev(read_settings(), options, out)
        except StackError as error:
            raise Failure(str(error)) from None
        # Stopped in order: leave now. asyncio.run would next wait for every task left, and a
        # worker given up on (a workflow task waiting on an activity retried without end) may
        # never finish; the process exits with os._exit anyway (cli.main).
        from campaign_engine.runtime import tracing

        tracing.stop()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    raise typer.Exit(run(main()))


def demo(
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario file (default: the packaged demo).")
    ] = None,
    api: Annotated[str, typer.Option(help="Base URL of the running API.")] = (
        "http://127.0.0.1:8000"
    ),
    speed: Annotated[float, typer.Option(help="Bars per second per symbol.")] = 20.0,
    export: Annotated[
        Path | None,
        typer.Option(help="Copy the packaged demo scenario into this folder to edit, and stop."),
    ] = None,
) -> None:
    """Play a scenario (a folder or its scenario.json) through the running stack (see
    `campaigns dev`) and print the outcome."""
    from campaign_engine.scenarios.play import run_demo

    if export is not None:
        from campaign_engine.scenarios import ScenarioError, export_demo

        try:
            folder = export_demo(export)
        except ScenarioError as error:
            stop(error, 2)
        out.print(f"the demo scenario is now in {folder}; play it with --scenario {folder}")
        raise typer.Exit(0)

    token = read_settings().bearer_token
    raise typer.Exit(run_demo(scenario, api_url=api, token=token, speed=speed, console=out))


def worker() -> None:
    """Run a worker on the campaigns task queue, configured by the environment
    (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, ACCOUNT_EQUITY, CAMPAIGNS_POLICY,
    NOTIFY_WEBHOOK_URL, METRICS_PORT, LOG_LEVEL)."""
    from campaign_engine.worker import main as run_worker

    read_settings()  # a bad environment is refused before anything starts
    run_worker()


def api(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) against TEMPORAL_ADDRESS and DATABASE_URL."""
    from campaign_engine.api import ServeError, serve_api
    from campaign_engine.runtime.observability import configure_logging

    settings = read_settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        try:
            await serve_api(settings, host=host, port=port)
        except ServeError as error:
            raise Failure(str(error)) from None

    run(main())
