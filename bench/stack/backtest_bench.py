"""``campaigns backtest`` on a generated year of daily bars, next to the live stack on a slice
of the same data, measured in the same run.

    .venv/bin/python -m bench.stack.backtest_bench [--symbols 500] [--days 252] [--runs 3] \
        [--notes TEXT]
    .venv/bin/python -m bench.stack.backtest_bench --quick      # smaller sizes, under a minute

The data (seeded, written into a temporary folder, never kept): ``--symbols`` symbols of
``--days`` daily bars each, a random walk; on a fraction of the symbols one to three Wyckoff
campaigns each (a trading range, then a Spring, an SOS and an LPS signal, then a markup to the
targets or a fall through the spring's low), as the files the command reads (signals JSON,
bars CSV).

Figures, each wall time beside the CPU time of the process that did the work:

- the whole command in a subprocess (start-up, parsing, the play, the report written as JSON
  and HTML): bars/s and CPU microseconds per bar;
- the parsing alone, the engine alone (``run_backtest`` on the parsed timeline) and the report
  alone (build, JSON, HTML), in this process;
- the live stack (Temporal dev server, PostgreSQL, the worker, the client and the price
  publisher) on ``--live-symbols`` symbols over the first ``--live-days`` days: each day the
  day's signals are submitted, then each symbol's bar is published, and the next day waits
  until every open campaign on the symbol took it (so no bars are merged); bars/s, and the
  engine's bars/s on the same slice;
- the ratio backtest / live (recorded as the live stack's bars/s anchoring the whole command's,
  the engine's and the engine's on the slice);
- the floors of each stage (``backtest_floors``).

The data is made by ``backtest_data``, the live slice played by ``backtest_live``.

``--profile`` prints where the engine's and the report's time goes (cProfile, by own time).
"""

import argparse
import asyncio
import cProfile
import io
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench.record import Anchor, Figure, add_notes_argument, record
from bench.stack.backtest_data import generate, slice_of, write_files
from bench.stack.backtest_floors import floors
from bench.stack.backtest_live import Live, live_slice
from campaign_engine.backtest.engine import BacktestRun, run_backtest
from campaign_engine.backtest.report import Report, build_report
from campaign_engine.backtest.report_html import render_html
from campaign_engine.backtest.report_json import report_json
from campaign_engine.backtest.sources import files_timeline
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.cli.backtest import collector_paused
from campaign_engine.cli.backtest_summary import summary

T = TypeVar("T")
GOAL_BARS_PER_SECOND = 100_000


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def measured(work: Callable[[], T]) -> tuple[T, Timing]:
    """``work()`` with its wall time and this process's CPU time (user + system)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return result, Timing(time.perf_counter() - wall, time.process_time() - cpu)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_command(signals: Path, bars: Path, out: Path) -> Timing:
    """``campaigns backtest`` as a user runs it, in its own process."""
    command = [sys.executable, "-c", "from campaign_engine.cli import main; main()"]
    command += ["backtest", "--signals", str(signals), "--bars", str(bars), "--out", str(out)]
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    timing = Timing(time.perf_counter() - wall, children_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(f"campaigns backtest failed:\n{done.stderr}")
    return timing


@dataclass
class Measured:
    """One line of the table: several runs of the same work over ``bars`` bars."""

    name: str
    bars: int
    runs: list[Timing] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(t.wall for t in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(t.cpu for t in self.runs)

    def row(self) -> str:
        rate = self.bars / self.wall
        cpu_rate = self.bars / self.cpu if self.cpu else float("inf")
        every = " ".join(f"{t.wall:.2f}/{t.cpu:.2f}" for t in self.runs)
        return (
            f"  {self.name:<30} {rate:>10,.0f} {cpu_rate:>10,.0f} "
            f"{1e6 * self.cpu / self.bars:>9.2f}   {every}"
        )

    def figure(self, anchor: Anchor | None = None) -> Figure:
        """Bars a second (the median run's wall time), with CPU microseconds per bar."""
        rate, cpu_us = self.bars / self.wall, 1e6 * self.cpu / self.bars
        return Figure(self.name.strip(), rate, "bars/s", cpu_us, anchor)


HEAD = f"  {'':<30} {'bars/s':>10} {'bars/CPU s':>10} {'CPU µs/bar':>9}   every run: wall/CPU s"


def profile(title: str, work: Callable[[], object], top: int) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    text = stream.getvalue()
    start = text.find("   ncalls")
    print(f"\n{title} (cProfile, by own time):\n{text[start:].rstrip()}")


# --- the run -------------------------------------------------------------------------------


def play_report(run: BacktestRun, timeline: Timeline) -> tuple[Report, bytes, str]:
    report = build_report(run, timeline)
    return report, report_json(report), render_html(report, run, timeline)


def as_the_command(work: Callable[[], T]) -> Callable[[], T]:
    """``work`` as the command runs it: with the cyclic garbage collector paused."""

    def paused() -> T:
        with collector_paused():
            return work()

    return paused


def terminal_summary(report: Report) -> None:
    """The command's summary (the best and worst campaigns, the tables, the figures), printed
    where nobody reads it."""
    from rich.console import Console

    summary(report, Console(file=io.StringIO()))  # 80 columns, as in a pipe


def main(args: argparse.Namespace) -> list[Figure]:
    data, made = measured(lambda: generate(args.symbols, args.days, args.seed))
    folder = Path(tempfile.mkdtemp(prefix="ce-backtest-bench-"))
    signals_file, bars_file = write_files(data, folder)
    print(
        f"campaign-engine backtest benchmark, CPython {sys.version.split()[0]} on "
        f"{platform.machine()}, {os.cpu_count()} cores; {args.runs} runs a figure"
    )
    print(
        f"data: {len(data.bars)} symbols x {len(data.days)} days = {data.bar_count:,} bars, "
        f"{len(data.signals)} signals (seed {args.seed}, generated in {made.wall:.1f} s, "
        f"in {folder})"
    )
    bars = data.bar_count
    command = Measured("whole command (subprocess)", bars)
    parse = Measured("  parsing the files", bars)
    engine = Measured("  engine (run_backtest)", bars)
    report = Measured("  report (build+JSON+HTML)", bars)
    build = Measured("    build_report", bars)
    printed = Measured("  summary printed (terminal)", bars)
    timeline = files_timeline(str(signals_file), [str(bars_file)])
    run = run_backtest(timeline)
    played = build_report(run, timeline)
    for n in range(args.runs):
        command.runs.append(whole_command(signals_file, bars_file, folder / f"out{n}"))
        parsing = partial(files_timeline, str(signals_file), [str(bars_file)])
        parse.runs.append(measured(as_the_command(parsing))[1])
        engine.runs.append(measured(as_the_command(partial(run_backtest, timeline)))[1])
        build.runs.append(measured(as_the_command(partial(build_report, run, timeline)))[1])
        report.runs.append(measured(as_the_command(partial(play_report, run, timeline)))[1])
        printed.runs.append(measured(as_the_command(partial(terminal_summary, played)))[1])
    p = played.portfolio
    print(
        f"the play: {p.campaigns} campaigns, {played.signals.decided} signals decided "
        f"({played.signals.refused} refused), {len(run.events):,} events, "
        f"{p.trades.trades} closed trades, final equity {p.final_equity:,.2f}"
    )
    live_figure: Measured | None = None
    live: Live | None = None
    if args.live_symbols > 0:
        small = slice_of(data, args.live_symbols, min(args.live_days, len(data.days)))
        with tempfile.TemporaryDirectory() as tmp:
            s_file, b_file = write_files(small, Path(tmp))
            small_timeline = files_timeline(str(s_file), [str(b_file)])
        live_figure = Measured(f"  engine on the live slice ({small.bar_count:,})", small.bar_count)
        for _ in range(args.runs):
            live_figure.runs.append(measured(lambda: run_backtest(small_timeline))[1])
        live = asyncio.run(live_slice(small, args.wait_timeout))
        print(
            f"live slice: {len(small.bars)} symbols x {len(small.days)} days = "
            f"{small.bar_count:,} bars, {len(small.signals)} signals "
            f"({live.plans} decided), {live.waits_timed_out} bar waits timed out"
        )
    print(HEAD)
    for measure in (command, parse, engine, report, build, printed, live_figure):
        if measure is not None:
            print(measure.row())
    engine_rate = bars / engine.wall
    print(
        f"  goal: {GOAL_BARS_PER_SECOND:,} bars/s on one core: engine "
        f"{engine_rate:,.0f} ({engine_rate / GOAL_BARS_PER_SECOND:.2f}x), whole command "
        f"{bars / command.wall:,.0f} ({bars / command.wall / GOAL_BARS_PER_SECOND:.2f}x)"
    )
    figures = [m.figure() for m in (parse, report, build, printed)]
    if live is None:
        figures = [command.figure(), engine.figure(), *figures]
    else:
        live_rate = live.bars / live.wall
        beside = Anchor("live stack on a slice of the same data", live_rate, "bars/s")
        live_us = 1e6 * sum(live.cpu.values()) / live.bars
        figures = [command.figure(beside), engine.figure(beside), *figures]
        if live_figure is not None:
            figures.append(live_figure.figure(beside))
        figures.append(Figure("live stack (slice)", live_rate, "bars/s", live_us, None))
        cpu = " / ".join(f"{k} {v:.1f}" for k, v in live.cpu.items())
        print(
            f"  {'live stack (slice)':<30} {live_rate:>10,.1f}   "
            f"{live.bars:,} bars in {live.wall:.1f} s; CPU s: {cpu} "
            f"({1e6 * sum(live.cpu.values()) / live.bars:,.0f} µs/bar)"
        )
        print(
            f"  ratio backtest / live: whole command {bars / command.wall / live_rate:,.0f}x, "
            f"engine {engine_rate / live_rate:,.0f}x"
        )
    print("  floors, CPU µs per bar (least of 3; the least work a stage must do, alone):")
    for what, least in floors(bars_file, timeline):
        print(f"    {what:<44} {least:>7.2f}")
        figures.append(Figure(f"floor: {what}", least, "CPU µs per bar", least, None))
    if args.profile:
        profile("engine", lambda: run_backtest(timeline), args.top)
        profile("report", lambda: play_report(run, timeline), args.top)
        profile("parsing", lambda: files_timeline(str(signals_file), [str(bars_file)]), args.top)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--days", type=int, default=252)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--live-symbols", type=int, default=20)
    parser.add_argument("--live-days", type=int, default=60)
    parser.add_argument("--wait-timeout", type=float, default=30.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="100 symbols, 1 run, live 5 x 30")
    add_notes_argument(parser)
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.symbols, parsed.runs, parsed.live_symbols, parsed.live_days = 100, 1, 5, 30
    figures = main(parsed)
    record("backtest_bench", "stack", figures, parsed.notes)
