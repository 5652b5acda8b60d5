"""What every command shares: the consoles, the environment's settings, running a command's
coroutine with failures a user can fix printed as one line, reading an input file, JSON
output, and the Temporal client."""

from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from campaign_engine.runtime.settings import Settings, SettingsError, load_settings

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class Failure(Exception):
    """A command cannot go on; the message is for the user."""


def say(error: Exception) -> None:
    """Print ``error`` as the one line a user reads."""
    err.print(f"[red]error:[/red] {error}", highlight=False)


def stop(error: Exception, code: int) -> NoReturn:
    """Print ``error`` as the one line a user reads, and leave with ``code``."""
    say(error)
    raise typer.Exit(code) from None


def read_settings() -> Settings:
    """The environment's settings; a bad environment is a Failure."""
    try:
        return load_settings()
    except SettingsError as error:
        raise Failure(str(error)) from None


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine, turning the failures a user can fix into one readable line."""
    import asyncio

    import psycopg
    from sqlalchemy.exc import DBAPIError

    from campaign_engine.formats.input_files import InputError

    try:
        return asyncio.run(work)
    except (Failure, InputError) as error:
        stop(error, 2 if isinstance(error, InputError) else 1)
    except (DBAPIError, psycopg.Error) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        stop(Failure(f"the database is unavailable: {reason}"), 1)


async def campaign_client(settings: Settings) -> Any:
    from campaign_engine.client.campaign_client import CampaignClient

    try:
        return await CampaignClient.connect(settings)
    except RuntimeError as error:
        raise Failure(
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): {error}"
        ) from None


def parse(read: Callable[[], T]) -> T:
    """What ``read`` makes of an input file; a bad file leaves with exit code 2."""
    from campaign_engine.formats.input_files import InputError

    try:
        return read()
    except InputError as error:
        stop(error, 2)


def dump(value: Any) -> Any:
    """``value`` as JSON-ready data."""
    from pydantic import TypeAdapter

    return TypeAdapter(type(value)).dump_python(value, mode="json")
