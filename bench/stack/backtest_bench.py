"""``campaigns backtest`` on a generated year of daily bars, next to the live stack on a slice
of the same data, measured in the same run.

    .venv/bin/python -m bench.stack.backtest_bench [--symbols 500] [--days 252] [--runs 3]
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
- the ratio backtest / live.

``--profile`` prints where the engine's and the report's time goes (cProfile, by own time).
"""

import argparse
import asyncio
import cProfile
import csv
import io
import json
import os
import platform
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar

from bench.stack.backtest_floors import floors
from campaign_engine.backtest.engine import BacktestRun, run_backtest
from campaign_engine.backtest.report import Report, build_report
from campaign_engine.backtest.report_html import render_html
from campaign_engine.backtest.report_json import report_json
from campaign_engine.backtest.sources import files_timeline
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.cli.backtest import collector_paused
from campaign_engine.cli.backtest_summary import summary
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.vocabulary import Pattern

D = Decimal
T = TypeVar("T")
FIRST_DAY = datetime(2023, 1, 2, 21, 0, tzinfo=UTC)  # a Monday, bars stamped at the close
IDS = uuid.UUID("6f1f7c2e-2d7b-4b0e-9d39-0c4b5e7a1d11")
GOAL_BARS_PER_SECOND = 100_000


# --- the data ------------------------------------------------------------------------------


def trading_days(count: int) -> list[datetime]:
    days: list[datetime] = []
    day = FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _cents(value: float) -> Decimal:
    return D(f"{max(value, 0.05):.2f}")


@dataclass
class Generated:
    days: list[datetime]
    bars: dict[str, list[tuple[Decimal, Decimal, Decimal, Decimal]]]  # symbol -> OHLC by day
    signals: list[EntrySignal] = field(default_factory=list)

    @property
    def bar_count(self) -> int:
        return sum(len(b) for b in self.bars.values())


class _Walk:
    """One symbol's closes day by day: a random walk unless a script says where to go."""

    def __init__(self, rng: random.Random, start: float) -> None:
        self.rng = rng
        self.close = start
        self.bars: list[tuple[float, float, float, float]] = []

    def step(self, close: float | None = None, low: float | None = None) -> None:
        rng, open_ = self.rng, self.close
        if close is None:
            close = open_ * (1 + rng.gauss(0.0003, 0.015))
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.004)))
        bottom = min(open_, close) * (1 - abs(rng.gauss(0, 0.004)))
        self.bars.append((open_, high, bottom if low is None else min(low, bottom), close))
        self.close = close


def _campaign(
    walk: _Walk, symbol: str, days: Sequence[datetime], start: int, end: int
) -> list[EntrySignal]:
    """Days ``start`` to ``end`` of ``walk``: a 20-day range, a Spring, an SOS, an LPS, then a
    markup (or a failure through the spring's low) until ``end``; the three signals."""
    rng = walk.rng
    ice = walk.close
    creek = ice * rng.uniform(0.92, 0.96)
    for _ in range(20):  # the range: closes between creek and ice
        walk.step(close=rng.uniform(creek * 1.005, ice * 0.995))
    spring_low = creek * rng.uniform(0.97, 0.99)
    walk.step(close=creek * 1.01, low=spring_low)
    spring_day = start + 20
    creek_d, ice_d, spring_low_d = _cents(creek), _cents(ice), _cents(spring_low)
    jump_d = _cents(ice + (ice - creek) * 1.5)
    if not creek_d < ice_d < jump_d or spring_low_d >= creek_d:
        return []
    rng_id = uuid.uuid5(IDS, f"{symbol}-{start}")
    trading_range = TradingRange(
        id=rng_id,
        symbol=symbol,
        timeframe="1d",
        start_time=days[start],
        creek=creek_d,
        ice=ice_d,
        jump=jump_d,
        spring_low=spring_low_d,
    )

    def signal(pattern: Pattern, day: int, entry: Decimal, stop: Decimal) -> EntrySignal:
        return EntrySignal(
            signal_id=uuid.uuid5(rng_id, pattern.value),
            symbol=symbol,
            timeframe="1d",
            trading_range=trading_range,
            pattern=pattern,
            entry_price=entry,
            stop_loss=stop,
            confidence=D(rng.randint(72, 95)),
            r_multiple=D("2.5"),
            requested_risk_pct=D("0.05"),
            generated_at=days[day],
        )

    signals = [signal(Pattern.SPRING, spring_day, _cents(walk.close), spring_low_d)]
    for _ in range(3):  # up to the ice
        walk.step(close=walk.close * rng.uniform(1.0, 1.025))
    walk.step(close=ice * rng.uniform(1.01, 1.03))  # the SOS
    sos_day = spring_day + 4
    signals.append(signal(Pattern.SOS, sos_day, _cents(walk.close), creek_d))
    for _ in range(3):  # back to the ice
        walk.step(close=max(ice * 1.003, walk.close * rng.uniform(0.985, 1.0)))
    lps_day = sos_day + 3
    signals.append(signal(Pattern.LPS, lps_day, _cents(walk.close), _cents(ice * 0.98)))
    fails = rng.random() < 0.35
    for day in range(lps_day + 1, end):
        if fails and day < lps_day + 8:
            walk.step(close=walk.close * rng.uniform(0.95, 0.985))
        elif day < lps_day + 25:
            walk.step(close=walk.close * (1 + rng.gauss(0.006, 0.012)))
        else:
            walk.step()
    return signals


def generate(symbols: int, days_count: int, seed: int = 11) -> Generated:
    """The seeded year: random walks, and campaigns on 60% of the symbols."""
    days = trading_days(days_count)
    out = Generated(days, {})
    slot = 84  # at most one campaign per slot; a campaign takes about 60 days
    for n in range(symbols):
        rng = random.Random(f"{seed}-{n}")
        symbol = f"S{n:04d}"
        walk = _Walk(rng, rng.uniform(20, 200))
        starts: list[int] = []
        if rng.random() < 0.6:
            slots = list(range(0, days_count - 40, slot))
            for s in sorted(rng.sample(slots, min(len(slots), rng.randint(1, 3)))):
                starts.append(s + rng.randint(0, 10))
        day = 0
        for start in starts:
            while day < start:
                walk.step()
                day += 1
            end = min(start + 60, days_count)
            out.signals += [
                s for s in _campaign(walk, symbol, days, start, end) if s.generated_at <= days[-1]
            ]
            day = len(walk.bars)
        while len(walk.bars) < days_count:
            walk.step()
        out.bars[symbol] = [
            (_cents(o), _cents(h), _cents(low), _cents(c))
            for o, h, low, c in walk.bars[:days_count]
        ]
    return out


def write_files(data: Generated, folder: Path) -> tuple[Path, Path]:
    """The signals as JSON (as ``campaigns submit`` reads) and the bars as one CSV."""
    signals = folder / "signals.json"
    signals.write_text(json.dumps([s.model_dump(mode="json") for s in data.signals]))
    bars = folder / "bars.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["symbol", "as_of", "open", "high", "low", "close"])
    for symbol, ohlc in data.bars.items():
        for at, (o, h, low, c) in zip(data.days, ohlc, strict=True):
            writer.writerow([symbol, at.isoformat(), o, h, low, c])
    bars.write_text(buffer.getvalue())
    return signals, bars


def slice_of(data: Generated, symbols: int, days: int) -> Generated:
    """``symbols`` symbols over the first ``days`` days: those whose campaigns start first."""
    last = data.days[days - 1]
    first_signal: dict[str, datetime] = {}
    for s in data.signals:
        first_signal.setdefault(s.symbol, s.generated_at)
    ranked = sorted(data.bars, key=lambda sym: (first_signal.get(sym, data.days[-1]), sym))
    chosen = set(ranked[:symbols])
    return Generated(
        data.days[:days],
        {sym: ohlc[:days] for sym, ohlc in data.bars.items() if sym in chosen},
        [s for s in data.signals if s.symbol in chosen and s.generated_at <= last],
    )


def bar_updates(data: Generated) -> Iterator[tuple[int, PriceUpdate]]:
    for symbol, ohlc in data.bars.items():
        for day, (o, h, low, c) in enumerate(ohlc):
            yield (
                day,
                PriceUpdate(symbol=symbol, as_of=data.days[day], open=o, high=h, low=low, close=c),
            )


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
class Figure:
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


# --- the live slice ------------------------------------------------------------------------


@dataclass
class Live:
    bars: int
    wall: float
    cpu: dict[str, float]
    plans: int
    waits_timed_out: int


async def live_slice(data: Generated, wait_timeout: float) -> Live:
    """The slice through the running stack, day by day: the day's signals submitted (in
    priority order, as one batch), then each symbol's bar published, all symbols at once; the
    next day once every open campaign on each symbol has taken its bar."""
    from campaign_engine.stack.databases import own_database

    with own_database("ce_bt_bench_") as database:
        return await _live_slice_on(database.url, data, wait_timeout)


async def _live_slice_on(url: str, data: Generated, wait_timeout: float) -> Live:
    from bench.micro.cpu import CPU_GROUPS, cpu_seconds
    from campaign_engine.client.campaign_client import CampaignClient
    from campaign_engine.db.engine import create_engine_for
    from campaign_engine.db.repository import CampaignRepository
    from campaign_engine.price_feed.publisher import DatabaseDirectory, OpenCampaign
    from campaign_engine.runtime.settings import Settings
    from campaign_engine.stack.temporal_server import local_temporal
    from campaign_engine.worker import build_worker

    env = await local_temporal()
    settings = Settings(database_url=url, metrics_port=None, task_queue="backtest-bench")
    engine = create_engine_for(url)
    await CampaignRepository(engine).ensure_portfolio(settings.policy.starting_equity)
    client = CampaignClient(env.client, policy=settings.policy, task_queue=settings.task_queue)
    publisher = client.publisher(DatabaseDirectory(engine), interval=timedelta(0))
    by_day: dict[datetime, list[EntrySignal]] = {}
    for s in data.signals:
        by_day.setdefault(s.generated_at, []).append(s)
    updates: dict[int, list[PriceUpdate]] = {}
    for day, update in bar_updates(data):
        updates.setdefault(day, []).append(update)
    open_on: dict[str, dict[str, datetime]] = {}  # symbol -> campaign id -> opened at
    timed_out = 0
    plans = 0

    async def took(symbol: str, update: PriceUpdate) -> None:
        nonlocal timed_out
        await publisher.publish(update)
        deadline = time.monotonic() + wait_timeout
        waiting = {c for c, at in open_on.get(symbol, {}).items() if at < update.as_of}
        while waiting:
            states = await asyncio.gather(*(client.status(c) for c in waiting))
            for campaign_id, state in zip(list(waiting), states, strict=True):
                if state is None or state.is_closed:
                    open_on[symbol].pop(campaign_id, None)
                    waiting.discard(campaign_id)
                elif state.last_price_at is not None and state.last_price_at >= update.as_of:
                    waiting.discard(campaign_id)
            if waiting and time.monotonic() > deadline:
                timed_out += len(waiting)
                break
            if waiting:
                await asyncio.sleep(0.01)

    async with build_worker(env.client, engine, settings, channels=[]):
        cpu_before, started = cpu_seconds(), time.perf_counter()
        for day, at in enumerate(data.days):
            for plan in await client.submit_batch(by_day.get(at, [])):
                plans += 1
                if plan.approved:
                    opened = open_on.setdefault(plan.symbol, {})
                    if plan.campaign_id not in opened:
                        opened[plan.campaign_id] = at
                        await publisher.opened(plan.symbol, OpenCampaign(plan.campaign_id, at))
            await asyncio.gather(*(took(u.symbol, u) for u in updates.get(day, [])))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds()
    await engine.dispose()
    await env.shutdown()
    return Live(
        bars=data.bar_count,
        wall=wall,
        cpu={g: cpu_after[g] - cpu_before[g] for g in CPU_GROUPS},
        plans=plans,
        waits_timed_out=timed_out,
    )


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


def main(args: argparse.Namespace) -> None:
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
    command = Figure("whole command (subprocess)", bars)
    parse = Figure("  parsing the files", bars)
    engine = Figure("  engine (run_backtest)", bars)
    report = Figure("  report (build+JSON+HTML)", bars)
    build = Figure("    build_report", bars)
    printed = Figure("  summary printed (terminal)", bars)
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
    live_figure: Figure | None = None
    live: Live | None = None
    if args.live_symbols > 0:
        small = slice_of(data, args.live_symbols, min(args.live_days, len(data.days)))
        with tempfile.TemporaryDirectory() as tmp:
            s_file, b_file = write_files(small, Path(tmp))
            small_timeline = files_timeline(str(s_file), [str(b_file)])
        live_figure = Figure(f"  engine on the live slice ({small.bar_count:,})", small.bar_count)
        for _ in range(args.runs):
            live_figure.runs.append(measured(lambda: run_backtest(small_timeline))[1])
        live = asyncio.run(live_slice(small, args.wait_timeout))
        print(
            f"live slice: {len(small.bars)} symbols x {len(small.days)} days = "
            f"{small.bar_count:,} bars, {len(small.signals)} signals "
            f"({live.plans} decided), {live.waits_timed_out} bar waits timed out"
        )
    print(HEAD)
    for figure in (command, parse, engine, report, build, printed, live_figure):
        if figure is not None:
            print(figure.row())
    engine_rate = bars / engine.wall
    print(
        f"  goal: {GOAL_BARS_PER_SECOND:,} bars/s on one core: engine "
        f"{engine_rate:,.0f} ({engine_rate / GOAL_BARS_PER_SECOND:.2f}x), whole command "
        f"{bars / command.wall:,.0f} ({bars / command.wall / GOAL_BARS_PER_SECOND:.2f}x)"
    )
    if live is not None:
        live_rate = live.bars / live.wall
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
    if args.profile:
        profile("engine", lambda: run_backtest(timeline), args.top)
        profile("report", lambda: play_report(run, timeline), args.top)
        profile("parsing", lambda: files_timeline(str(signals_file), [str(bars_file)]), args.top)


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
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.symbols, parsed.runs, parsed.live_symbols, parsed.live_days = 100, 1, 5, 30
    main(parsed)
