"""The ``campaigns`` command."""

import os
import sys

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Wyckoff campaign engine.")


@app.callback()
def _root() -> None:
    """Keep ``campaigns`` a group of subcommands even while it has only one."""


@app.command()
def demo() -> None:
    """Play a scripted Spring -> SOS -> LPS campaign through the domain and print it."""
    from campaign_engine.demo import play

    play()


@app.command()
def worker() -> None:
    """Run a worker on the campaigns task queue, configured by the environment
    (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, ACCOUNT_EQUITY, NOTIFY_WEBHOOK_URL,
    METRICS_PORT, LOG_LEVEL)."""
    from campaign_engine.settings import SettingsError
    from campaign_engine.worker import main as run_worker

    try:
        run_worker()
    except SettingsError as error:
        raise typer.BadParameter(str(error)) from None


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
