"""Two plays of the same waves, each on a stack of its own started from nothing: one without
faults, one with them; then what each left in its database, compared."""

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.chaos.compare import Check, Snapshot, compare, no_duplicates, snapshot
from bench.chaos.driver import Driver, Log, Observer
from bench.chaos.faults import FaultPlan, Faults
from bench.chaos.play import Play, build_play
from bench.chaos.stack import Stack
from bench.record import Anchor, Figure


@dataclass(frozen=True)
class Options:
    campaigns: int = 200
    seed: int = 1
    worker_kills: int = 10
    pg_outage_seconds: float = 30.0
    pg_outages: int = 1
    temporal_restarts: int = 1
    api_kills: int = 1
    wave: int = 30  # ranges played side by side
    stall_seconds: float = 120.0
    # Seconds the tasks queued for a killed worker wait before another worker takes them;
    # None: production's (CAMPAIGNS_STICKY_TIMEOUT's default).
    sticky_timeout_seconds: float | None = None
    workdir: Path | None = None  # kept when given (logs); a temporary folder otherwise

    @classmethod
    def quick(cls, **changes: object) -> "Options":
        base = {
            "campaigns": 20,
            "worker_kills": 3,
            "pg_outage_seconds": 5.0,
            "stall_seconds": 30.0,
        }
        return cls(**{**base, **changes})  # type: ignore[arg-type]


@dataclass
class RunResult:
    name: str
    wall: float
    log: Log
    faults: list[str]
    exits: list[str]
    snapshot: Snapshot
    fault_count: int = 0

    @property
    def created(self) -> int:
        return len(self.snapshot.tables["campaigns"])


@dataclass
class Report:
    play: Play
    runs: list[RunResult] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.failed == 0 for c in self.checks)


async def play_once(
    name: str, play: Play, root: Path, options: Options, plan: FaultPlan | None
) -> RunResult:
    print(f"\n== {name}: starting PostgreSQL, Temporal, a worker and the API", flush=True)
    started = time.monotonic()
    stack = await Stack.start(root, sticky_timeout_seconds=options.sticky_timeout_seconds)
    observer = Observer(stack.temporal.address, stack.postgres.url)
    faults = Faults.drawn(stack, plan, play.steps, options.seed) if plan else None
    try:
        hooks = {"before_step": faults.before_step, "after_ack": faults.after_ack} if faults else {}
        driver = Driver(stack.api_url, observer, stall_seconds=options.stall_seconds, **hooks)
        print(f"   playing {play.steps} steps in {len(play.waves)} wave(s)", flush=True)
        await driver.play(play)
        if faults is not None:
            await faults.finish()
        # Whatever a fault left half done must be finished before the books are read.
        await driver.settle_all()
        result = RunResult(
            name,
            time.monotonic() - started,
            driver.log,
            faults.log if faults else [],
            list(stack.exits),
            await asyncio.to_thread(snapshot, stack.postgres.url),
            faults.count if faults else 0,
        )
    finally:
        if faults is not None:
            faults.cancel()
        stack.close()
        with contextlib.suppress(BaseException):
            await observer.close()
    return result


def run_checks(clean: RunResult, faulty: RunResult) -> list[Check]:
    checks = compare(clean.snapshot, faulty.snapshot)
    clean_once = no_duplicates(clean.snapshot)
    clean_once.name = "orders placed once (clean)"
    prices = Check("prices reached campaigns")
    for run in (clean, faulty):
        for stall in run.log.stalls:
            prices.add(False, f"{run.name}: {stall}")
        prices.passed += run.log.acked_batches - len(run.log.stalls)
    answered = Check("requests answered")
    for run in (clean, faulty):
        for refusal in run.log.final_refusals:
            answered.add(False, f"{run.name}: {refusal}")
        answered.passed += run.log.decisions + run.log.acked_batches - len(run.log.final_refusals)
    return [*checks, clean_once, prices, answered]


async def run_chaos(options: Options) -> Report:
    play = build_play(options.campaigns, options.wave)
    report = Report(play)
    print(
        f"chaos: {play.ranges} campaigns from seeds {play.seeds[0]}-{play.seeds[-1]}, "
        f"{play.steps} steps; fault seed {options.seed}",
        flush=True,
    )
    plan = FaultPlan(
        worker_kills=options.worker_kills,
        pg_outages=options.pg_outages,
        pg_outage_seconds=options.pg_outage_seconds,
        temporal_restarts=options.temporal_restarts,
        api_kills=options.api_kills,
    )
    root = options.workdir or Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        clean = await play_once("without faults", play, root / "clean", options, None)
        report.runs.append(clean)
        faulty = await play_once("with faults", play, root / "faults", options, plan)
        report.runs.append(faulty)
    finally:
        if options.workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    report.checks = run_checks(clean, faulty)
    return report


def report_lines(report: Report) -> list[str]:
    lines = ["", "== results"]
    for run in report.runs:
        retries = ", ".join(f"{k} x{v}" for k, v in sorted(run.log.retries.items())) or "none"
        lines += [
            f"{run.name}: {run.wall:.1f} s wall, {run.fault_count} faults, "
            f"{run.created} campaigns created, {run.log.decisions} signals, "
            f"{run.log.acked_batches} price batches acknowledged",
            f"    retries: {retries}",
            *(f"    unexpected exit: {e}" for e in run.exits),
        ]
    for check in report.checks:
        lines += check.lines()
    lines.append("PASSED" if report.ok else "FAILED")
    return lines


def verdict(report: Report) -> list[Figure]:
    """The run's verdict as figures: what the play with faults did beside what the same play
    did without them (its anchor, measured in the same run), the faults injected, and each
    check's failures (lost: rows or bars missing; done twice: an order placed twice)."""
    clean, faulty = report.runs

    def beside(name: str, unit: str, of: Callable[[RunResult], float]) -> Figure:
        anchor = Anchor(f"{name}, without faults", of(clean), unit)
        return Figure(f"{name}, with faults", of(faulty), unit, None, anchor)

    figures = [
        Figure("faults injected", faulty.fault_count, "faults", None, None),
        beside("wall time", "s", lambda run: run.wall),
        beside("campaigns created", "campaigns", lambda run: run.created),
        beside("signals decided", "signals", lambda run: run.log.decisions),
        beside("price batches acknowledged", "batches", lambda run: run.log.acked_batches),
        beside("requests retried", "retries", lambda run: sum(run.log.retries.values())),
        beside("unexpected exits", "processes", lambda run: len(run.exits)),
        Figure("checks failed", sum(c.failed for c in report.checks), "failures", None, None),
    ]
    return figures + [
        Figure(f"{c.name}: failed", c.failed, f"of {c.passed + c.failed}", None, None)
        for c in report.checks
    ]
