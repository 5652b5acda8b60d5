"""The ``campaigns`` command: the embedded stack, the demo, and the commands for real use against
any Temporal and PostgreSQL given by the environment (TEMPORAL_ADDRESS, DATABASE_URL, ...)."""

import asyncio
import json
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from campaign_engine.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Wyckoff campaign engine: durable campaigns on Temporal.",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class Failure(Exception):
    """A command cannot go on; the message is for the user."""


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(str(error)) from None


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning the failures a user can fix into one readable line."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from campaign_engine.inputs import InputError

    try:
        return asyncio.run(work)
    except (Failure, InputError) as error:
        err.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2 if isinstance(error, InputError) else 1) from None
    except (DBAPIError, psycopg.Error) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        err.print(f"[red]error:[/red] the database is unavailable: {reason}", highlight=False)
        raise typer.Exit(1) from None


async def _campaign_client(settings: Settings) -> Any:
    from campaign_engine.client import CampaignClient

    try:
        return await CampaignClient.connect(settings)
    except RuntimeError as error:
        raise Failure(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): {error}"
        ) from None


@app.command()
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
    from campaign_engine.devstack import DevOptions, DevStackError, run_dev

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
            return await run_dev(_settings(), options, out)
        except DevStackError as error:
            raise Failure(str(error)) from None

    raise typer.Exit(_run(main()))


@app.command("demo")
def demo_command(
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
    from campaign_engine.demo import run_demo

    if export is not None:
        from campaign_engine.scenario import ScenarioError, export_demo

        try:
            folder = export_demo(export)
        except ScenarioError as error:
            err.print(f"[red]error:[/red] {error}", highlight=False)
            raise typer.Exit(2) from None
        out.print(f"the demo scenario is now in {folder}; play it with --scenario {folder}")
        raise typer.Exit(0)

    raise typer.Exit(
        run_demo(scenario, api_url=api, token=_settings().api_token, speed=speed, console=out)
    )


@app.command()
def worker() -> None:
    """Run a worker on the campaigns task queue, configured by the environment
    (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, ACCOUNT_EQUITY, NOTIFY_WEBHOOK_URL,
    METRICS_PORT, LOG_LEVEL)."""
    from campaign_engine.worker import main as run_worker

    _settings()  # a bad environment is refused before anything starts
    run_worker()


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) against TEMPORAL_ADDRESS and DATABASE_URL."""
    from campaign_engine.api import ServeError, serve_api
    from campaign_engine.observability import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, json=settings.log_json)

    async def main() -> None:
        try:
            await serve_api(settings, host=host, port=port)
        except ServeError as error:
            raise Failure(str(error)) from None

    _run(main())


@app.command()
def submit(
    file: Annotated[
        str, typer.Argument(help="JSON file with one signal or an array; - reads stdin")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the plans as JSON.")] = False,
) -> None:
    """Submit entry signals; several are decided as a batch, in priority order."""
    from campaign_engine.client import CampaignRefused
    from campaign_engine.inputs import parse_signals, read_text
    from campaign_engine.views import plans_table

    signals = _parse(lambda: parse_signals(read_text(file), file))

    async def main() -> list[Any]:
        client = await _campaign_client(_settings())
        try:
            if len(signals) == 1:
                return [await client.submit(signals[0])]
            return list(await client.submit_batch(signals))
        except CampaignRefused as error:
            raise Failure(f"refused ({error.kind}): {error}") from None

    plans = _run(main())
    if as_json:
        out.print_json(json.dumps([_dump(plan) for plan in plans]))
    else:
        out.print(plans_table(plans))


@app.command()
def prices(
    file: Annotated[
        str, typer.Argument(help="JSON (object or array) or CSV of price updates; - reads stdin")
    ],
) -> None:
    """Publish price updates to the open campaigns on their symbols (coalesced per symbol)."""
    from campaign_engine.db.settings import database_url
    from campaign_engine.inputs import parse_prices, read_text
    from campaign_engine.publisher import DatabaseDirectory

    updates = _parse(lambda: parse_prices(read_text(file), file))

    async def main() -> tuple[int, int]:
        from campaign_engine.db.engine import create_engine_for

        settings = _settings()
        client = await _campaign_client(settings)
        engine = create_engine_for(database_url(settings), pool_size=2)
        try:
            async with client.publisher(DatabaseDirectory(engine)) as publisher:
                for update in updates:
                    await publisher.publish(update)
            return publisher.updates_received, publisher.signals_sent
        finally:
            await engine.dispose()

    received, sent = _run(main())
    out.print(f"published {received} update(s) as {sent} signal(s) to campaigns")


@app.command()
def status(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id, e.g. AAPL-2024-10-15")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Show one campaign's live state (from its workflow; from the database once it ended)."""
    from campaign_engine.views import campaign_panel

    async def main() -> Any:
        settings = _settings()
        client = await _campaign_client(settings)
        from temporalio.service import RPCError

        try:
            state = await client.status(campaign_id)
        except RPCError:
            state = await _stored_state(settings, campaign_id)
        if state is None or not state.exists:
            raise Failure(f"there is no campaign {campaign_id}")
        return state

    state = _run(main())
    if as_json:
        out.print_json(json.dumps(_dump(state)))
    else:
        out.print(campaign_panel(state, _settings().account_equity))


async def _stored_state(settings: Settings, campaign_id: str) -> Any:
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.repository import CampaignRepository
    from campaign_engine.db.settings import database_url

    engine = create_engine_for(database_url(settings), pool_size=1)
    try:
        state, _ = await CampaignRepository(engine).load_state(campaign_id)
        return state
    finally:
        await engine.dispose()


@app.command("list")
def list_campaigns(
    status: Annotated[
        str | None, typer.Option(help="ACTIVE, MARKUP, COMPLETED or INVALIDATED.")
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="Only this symbol.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """List campaigns from the database, newest first."""
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.read_model import ReadModel
    from campaign_engine.db.settings import database_url
    from campaign_engine.domain.vocabulary import CampaignStatus
    from campaign_engine.views import campaigns_table

    wanted: CampaignStatus | None = None
    if status is not None:
        try:
            wanted = CampaignStatus(status.strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in CampaignStatus)
            raise typer.BadParameter(f"{status!r} is not one of {allowed}") from None

    async def main() -> Any:
        engine = create_engine_for(database_url(_settings()), pool_size=1)
        try:
            return await ReadModel(engine).list_campaigns(
                status=wanted, symbol=symbol, limit=limit, offset=offset
            )
        finally:
            await engine.dispose()

    page = _run(main())
    out.print(campaigns_table(page, total=page.total_count))


def _parse(read: Any) -> Any:
    from campaign_engine.inputs import InputError

    try:
        return read()
    except InputError as error:
        err.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(2) from None


def _dump(value: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(type(value)).dump_python(value, mode="json")


def main() -> None:
    try:
        app()
        code = 0
    except SystemExit as done:  # typer reports errors itself, then exits with their code
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can abort the interpreter while it finalizes (sdk-python#300): leave with our
    # own exit code once the output is out.
    os._exit(code)
