"""``campaigns backtest``: a scenario folder, or signals and bar files, played in process through
the domain (no stack needed), with the report written as JSON and as an HTML page."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from campaign_engine.cli.common import Failure, out, read_settings, stop

if TYPE_CHECKING:
    from campaign_engine.backtest.timeline import Timeline
    from campaign_engine.domain.policy import Policy

LONG_RUN_BARS = 100_000
"""From this many bars a progress bar is shown even when the output is not a terminal."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a backtest reads, plays and reports. A long
    play makes millions of objects that live to its end and form no cycles (bars, states,
    events, rows), and the collector would walk all of them again and again: on the 126,000
    bars of ``bench/stack/backtest_bench.py`` that was about a sixth of the command's CPU time, for
    about a thousand objects found at the end. Reference counting still frees the rest."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _timeline(scenario: Path | None, signals: str | None, bars: list[str]) -> "Timeline":
    from campaign_engine.backtest.sources import files_timeline, scenario_folder_timeline
    from campaign_engine.formats.input_files import InputError

    if (scenario is None) == (signals is None):
        raise InputError("give a scenario folder, or --signals FILE with --bars FILE (not both)")
    if scenario is not None and bars:
        raise InputError("--bars goes with --signals; a scenario folder holds its own prices")
    if signals is not None:
        return files_timeline(signals, bars)
    from campaign_engine.scenarios import ScenarioError

    assert scenario is not None
    try:
        return scenario_folder_timeline(scenario)
    except ScenarioError as error:
        raise InputError(str(error)) from None


def _policy(equity: str | None) -> "Policy":
    from campaign_engine.domain.policy import Policy
    from campaign_engine.formats.input_files import InputError

    policy = read_settings().policy
    if equity is None:
        return policy
    try:
        amount = Decimal(equity.replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InputError(f"--equity must be an amount, got {equity!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise InputError(f"--equity must be a positive amount, got {equity!r}")
    return Policy.model_validate({**policy.model_dump(), "starting_equity": amount})


def backtest(
    scenario: Annotated[
        Path | None,
        typer.Argument(help="A scenario folder or its scenario.json (as `demo --export` writes)."),
    ] = None,
    signals: Annotated[
        str | None,
        typer.Option("--signals", help="JSON file of entry signals (as `submit` reads)."),
    ] = None,
    bars: Annotated[
        list[str] | None,
        typer.Option("--bars", help="CSV or JSON bars (as `prices` reads); repeat for more files."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder to write report.json and report.html into.")
    ] = Path("backtest-report"),
    equity: Annotated[
        str | None,
        typer.Option(help="Starting equity (default: ACCOUNT_EQUITY, else 100000)."),
    ] = None,
    json_only: Annotated[bool, typer.Option("--json-only", help="Write report.json only.")] = False,
    every: Annotated[
        bool,
        typer.Option(
            "--all", help="Print every campaign (a long run prints the best and the worst)."
        ),
    ] = False,
) -> None:
    """Play a scenario, or signals with bars, through the campaign rules in process, bar by
    bar in market time with the portfolio limits as live, and write a report."""
    with collector_paused():
        _play(scenario, signals, bars or [], out_dir, equity, json_only, every)


def _play(
    scenario: Path | None,
    signals: str | None,
    bars: list[str],
    out_dir: Path,
    equity: str | None,
    json_only: bool,
    every: bool,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from campaign_engine.backtest.engine import run_backtest
    from campaign_engine.backtest.report import build_report
    from campaign_engine.backtest.report_json import write_json
    from campaign_engine.formats.input_files import InputError

    try:
        timeline = _timeline(scenario, signals, bars)
        policy = _policy(equity)
    except (InputError, Failure) as error:
        stop(error, 2)
    total = timeline.bar_count
    if out.is_terminal or total >= LONG_RUN_BARS:
        columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress("bars", *columns, console=out, transient=True) as progress:
            task = progress.add_task("bars", total=total)
            run = run_backtest(timeline, policy, lambda n: progress.update(task, completed=n))
    else:
        run = run_backtest(timeline, policy)
    report = build_report(run, timeline)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = [write_json(report, out_dir / "report.json")]
        if not json_only:
            from campaign_engine.backtest.report_html import write_html

            written.append(write_html(report, run, timeline, out_dir / "report.html"))
    except OSError as error:
        stop(Failure(f"cannot write the report into {out_dir}: {error.strerror or error}"), 1)
    from campaign_engine.cli.backtest_summary import summary

    summary(report, out, every, " and ".join(str(path) for path in written))
    if run.bad_prints:  # SPEC section 11: held as bad prints and never confirmed
        out.print(f"{len(run.bad_prints)} bar(s) dropped as bad prints:", highlight=False)
        for bar in run.bad_prints[:20]:
            out.print(
                f"  {bar.symbol} {bar.as_of.isoformat()} {bar.bar_low:f}..{bar.bar_high:f}",
                highlight=False,
            )
    for path in written:
        out.print(f"wrote {path}", highlight=False)
