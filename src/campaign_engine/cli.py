"""The ``campaigns`` command."""

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


def main() -> None:
    app()
