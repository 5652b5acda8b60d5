"""What a benchmark records is what it measured: the figures made from a run's measurements
(the chaos run's verdict, a stage's bars a second, a call's wall time and CPU, a decision's
percentiles beside its anchor's) carry those measurements, each beside the right anchor."""

import pytest
from bench.chaos.compare import Check, Snapshot
from bench.chaos.driver import Log
from bench.chaos.play import Play
from bench.chaos.run import Report, RunResult, verdict
from bench.micro.db_bench import Timing
from bench.record import Anchor, Figure
from bench.stack.backtest_bench import Measured
from bench.stack.backtest_bench import Timing as Run
from bench.stack.decision_cost import latency_figures


def _run(name: str, wall: float, campaigns: int, decisions: int, faults: int) -> RunResult:
    log = Log(retries={"503": 2} if faults else {}, decisions=decisions, acked_batches=7)
    tables = {"campaigns": [{"campaign_id": str(n)} for n in range(campaigns)]}
    return RunResult(name, wall, log, [], [], Snapshot(tables), faults)


def test_the_chaos_verdict_sets_the_play_with_faults_beside_the_play_without() -> None:
    checks = [Check("campaigns", passed=3, failed=1), Check("orders placed once", passed=9)]
    clean = _run("without faults", 30.0, 4, 8, 0)
    report = Report(Play(), [clean, _run("with faults", 80.0, 3, 8, 5)], checks)
    figures = {f.name: f for f in verdict(report)}
    assert figures["faults injected"].value == 5
    created = figures["campaigns created, with faults"]
    assert created.value == 3
    assert created.anchor == Anchor("campaigns created, without faults", 4, "campaigns")
    assert figures["requests retried, with faults"].value == 2
    assert figures["requests retried, with faults"].anchor == Anchor(
        "requests retried, without faults", 0, "retries"
    )
    assert figures["wall time, with faults"].value == 80.0
    assert figures["checks failed"].value == 1
    assert figures["campaigns: failed"] == Figure("campaigns: failed", 1, "of 4", None, None)
    assert figures["orders placed once: failed"].value == 0


def test_a_calls_figure_is_its_wall_time_with_its_cpu_per_call() -> None:
    figure = Timing("save", 200, cpu_s=0.1, wall_s=0.4).figure()
    assert figure == Figure("save: wall per call", 2.0, "ms", 500.0, None)


def test_a_stages_figure_is_its_median_runs_bars_a_second_with_cpu_per_bar() -> None:
    stage = Measured("  engine (run_backtest)", 1000, [Run(2.0, 1.0), Run(1.0, 0.5), Run(4, 2)])
    live = Anchor("live stack", 10.0, "bars/s")
    assert stage.figure(live) == Figure("engine (run_backtest)", 500.0, "bars/s", 1000.0, live)


def test_a_decisions_percentiles_stand_beside_the_same_percentiles_of_its_anchor() -> None:
    ours = [float(n) for n in range(1, 101)]
    raw = [n / 10 for n in ours]
    p50, p95 = latency_figures("later entry", ours, "raw update", raw)
    assert p50.name == "later entry p50" and p50.value == 50.5
    assert p50.anchor is not None and p50.anchor.name == "raw update p50"
    assert p50.anchor.value == pytest.approx(5.05)
    assert p95.name == "later entry p95" and p95.anchor is not None
    assert p95.value / p95.anchor.value == pytest.approx(10.0)
