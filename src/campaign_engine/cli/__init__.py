"""The ``campaigns`` command: the embedded stack, the demo, and the commands for real use against
any Temporal and PostgreSQL given by the environment (TEMPORAL_ADDRESS, DATABASE_URL, ...).

The commands live by what they do: ``stack`` (dev, demo, worker, api), ``feed_commands`` (submit,
prices), ``held`` (bad prints: held, release, discard), ``reads`` (status, list), ``trading``
(trading-state), ``backtest`` (in process, no stack); ``common`` holds what they share. Each
loads what it needs when it runs, so that ``campaigns --help`` and the read commands stay
light."""

import os
import sys

import typer

from campaign_engine.cli import backtest, doctor, feed_commands, held, reads, stack, trading
from campaign_engine.cli.common import Failure, say
from campaign_engine.runtime import tracing

__all__ = ["Failure", "app", "main"]

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Wyckoff campaign engine: durable campaigns on Temporal.",
    pretty_exceptions_enable=False,
)
# Registered in the order `campaigns --help` lists them.
app.command()(stack.dev)
app.command("demo")(stack.demo)
app.command()(stack.worker)
app.command()(stack.api)
app.command()(feed_commands.submit)
app.command()(feed_commands.prices)
app.command()(held.held)
app.command()(held.release)
app.command()(held.discard)
app.command()(reads.status)
app.command("list")(reads.list_campaigns)
app.command("trading-state")(trading.trading_state)
app.command()(backtest.backtest)
app.command()(doctor.doctor)


# A process traces as what it runs (when OTEL_EXPORTER_OTLP_ENDPOINT is set).
_SERVICES = {"api": tracing.API, "worker": tracing.WORKER}


def main() -> None:
    tracing.start(_SERVICES.get(sys.argv[1] if len(sys.argv) > 1 else "", tracing.CLI))
    try:
        app()
        code = 0
    except SystemExit as done:  # typer reports errors itself, then exits with their code
        code = done.code if isinstance(done.code, int) else int(done.code is not None)
    except Failure as error:  # raised before a command's work ran (its settings): one line too
        say(error)
        code = 1
    tracing.stop()  # the spans not exported yet, before os._exit skips every exit handler
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio can abort the interpreter while it finalizes (sdk-python#300): leave with our
    # own exit code once the output is out.
    os._exit(code)
