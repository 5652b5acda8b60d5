"""The demo scenario through the backtest gives the demo's documented outcomes; the same data
as signal and bar files plays the same; a signal is decided before the bars stamped at or
after it; and the report holds every figure, as JSON and as one self-contained HTML page."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from campaign_engine.backtest.engine import BacktestRun, run_backtest
from campaign_engine.backtest.report import Report, build_report
from campaign_engine.backtest.report_html import render_html
from campaign_engine.backtest.report_json import report_data
from campaign_engine.backtest.sources import files_timeline, merge_in_time, scenario_timeline
from campaign_engine.backtest.timeline import Bars, Decision, Timeline
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.formats.input_files import InputError
from campaign_engine.scenarios import Scenario, load_scenario
from campaign_engine.testing.builders import bar, signal

D = Decimal


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return load_scenario()


@pytest.fixture(scope="module")
def played(demo: Scenario) -> tuple[Timeline, BacktestRun, Report]:
    timeline = scenario_timeline(demo)
    run = run_backtest(timeline)
    return timeline, run, build_report(run, timeline)


def _outcomes(report: Report) -> dict[str, tuple[str, Decimal, Decimal | None]]:
    return {c.symbol: (c.status, c.total_pnl, c.r_multiple) for c in report.campaigns}


def test_the_demo_outcomes(demo: Scenario, played: tuple[Timeline, BacktestRun, Report]) -> None:
    _, _, report = played
    assert _outcomes(report) == {
        "AAPL": ("COMPLETED", D("9790.50"), D("4.6588")),
        "MSFT": ("COMPLETED", D(9395), D("3.6274")),
        "NVDA": ("INVALIDATED", D(-300), D("-0.6")),
        "TSLA": ("COMPLETED", D(-2004), D(-1)),
        "META": ("COMPLETED", D(7100), D("3.55")),
    }
    by_id = {c.campaign_id: c for c in report.campaigns}
    for r in demo.ranges:  # as the scenario expects: GOOG and AMZN have no campaign
        row = by_id.get(r.campaign_id())
        got = (row.status, tuple(e.pattern for e in row.entries)) if row else ("NOT_CREATED", ())
        assert got == (r.expect.status.value, tuple(p.value for p in r.expect.entries)), r.key
    refused = {(x.signal, x.code) for x in report.signals.refusals}
    assert refused == {("goog-sos", "PORTFOLIO_HEAT"), ("amzn-sos", "PORTFOLIO_HEAT")}
    assert report.signals.refused_by_code == {"PORTFOLIO_HEAT": 2}
    p = report.portfolio
    assert (p.final_equity, p.net_pnl, p.unrealized_pnl) == (D("123981.50"), D("23981.50"), D(0))
    assert (p.trades.trades, p.trades.wins, p.trades.win_rate_pct) == (8, 6, D("75.00"))
    assert D("8.6") < p.max_heat_pct < D(9)
    assert set(report.by_exit_reason) == {
        "TARGET_1",
        "TARGET_2",
        "TARGET_3",
        "STOP",
        "INVALIDATION",
    }
    assert set(report.by_pattern) == {"SPRING", "SOS", "LPS"}


def test_signals_and_bar_files_play_as_the_scenario(
    tmp_path: Path, played: tuple[Timeline, BacktestRun, Report]
) -> None:
    timeline, _, report = played
    signals = [s for step in timeline.steps if isinstance(step, Decision) for s in step.signals]
    (tmp_path / "signals.json").write_text(json.dumps([s.model_dump(mode="json") for s in signals]))
    by_symbol: dict[str, list[str]] = {}
    for step in timeline.steps:
        for u in step.updates if isinstance(step, Bars) else ():
            row = f"{u.symbol},{u.as_of.isoformat()},{u.open},{u.high},{u.low},{u.close}"
            by_symbol.setdefault(u.symbol, []).append(row)
    files = []
    for symbol, rows in by_symbol.items():  # one bar file per symbol
        files.append(str(tmp_path / f"{symbol}.csv"))
        Path(files[-1]).write_text("symbol,as_of,open,high,low,close\n" + "\n".join(rows) + "\n")
    from_files = files_timeline(str(tmp_path / "signals.json"), files)
    again = build_report(run_backtest(from_files), from_files)
    assert _outcomes(again) == _outcomes(report)
    assert again.portfolio.final_equity == report.portfolio.final_equity
    refused = {(p.symbol, p.code) for p in again.signals.refusals}
    assert refused == {("GOOG", "PORTFOLIO_HEAT"), ("AMZN", "PORTFOLIO_HEAT")}


def test_a_signal_goes_before_the_bars_stamped_at_or_after_it() -> None:
    # The bar at T0 + 60 min carries the signal's time: the signal is decided first and the
    # campaign opens then; that bar is not later than its signal, so it does not reach the
    # campaign (its low would stop it). The next bar does: stopped at 148.75.
    sos = signal(Pattern.SOS, at=bar("1", "1", "1", "1", 60).as_of)
    bars = [
        bar("149.00", "149.50", "146.00", "149.00", 0),  # before the signal
        bar("149.00", "149.50", "146.00", "149.00", 60),  # at the signal
        bar("149.00", "149.20", "148.00", "148.10", 120),  # after it
    ]
    steps = merge_in_time([sos], bars)
    assert [type(s).__name__ for s in steps] == ["Bars", "Decision", "Bars", "Bars"]
    state = run_backtest(Timeline(tuple(steps), "test")).states[sos.campaign_id]
    assert state.status.value == "COMPLETED"
    assert state.positions[0].exits[0].at == bars[2].as_of
    assert state.realized_pnl == D(1333) * D("-1.50")  # the Spring skipped: 2%, 1,333 shares


def test_repeated_bars_are_refused_naming_them(tmp_path: Path) -> None:
    spring = signal(Pattern.SPRING)
    (tmp_path / "s.json").write_text(json.dumps([spring.model_dump(mode="json")]))
    row = "AAPL,2024-10-15T15:00:00Z,149,150,148,149\n"
    (tmp_path / "a.csv").write_text("symbol,as_of,open,high,low,close\n" + row + row)
    with pytest.raises(InputError, match=r"a.csv record 2: a second AAPL bar"):
        files_timeline(str(tmp_path / "s.json"), [str(tmp_path / "a.csv")])


def test_the_json_holds_every_figure(played: tuple[Timeline, BacktestRun, Report]) -> None:
    data = json.loads(json.dumps(report_data(played[2])))
    portfolio = data["portfolio"]
    for key in ("win_rate_pct", "profit_factor", "expectancy", "average_r"):
        assert key in portfolio["trades"]
    assert {"max_drawdown_pct", "max_drawdown", "peak_at", "trough_at", "longest"} <= set(
        portfolio["drawdown"]
    )
    assert "duration_seconds" in portfolio["drawdown"]["longest"]
    campaign = data["campaigns"][0]
    for key in ("status", "entries", "exits", "realized_pnl", "total_pnl", "r_multiple"):
        assert key in campaign
    assert {"reason", "shares", "price", "at", "realized_pnl", "r_multiple"} <= set(
        campaign["exits"][0]
    )
    assert {"SPRING", "SOS", "LPS"} == set(data["by_pattern"])
    assert data["by_exit_reason"]["STOP"]["realized_pnl"] == "-2004.00"
    assert data["signals"]["refused_by_code"] == {"PORTFOLIO_HEAT": 2}
    assert len(data["equity_curve"]) == 301  # the start, then every bar's close
    assert data["equity_curve"][-1]["equity"] == "123981.50"
    assert {"at", "heat_pct"} == set(data["heat"][0])


def test_the_html_is_one_self_contained_page(played: tuple[Timeline, BacktestRun, Report]) -> None:
    timeline, run, report = played
    page = render_html(report, run, timeline)
    for outside in ("http:", "https:", "src=", "<link", "url(", "fetch(", "import "):
        assert outside not in page
    # equity, heat, each campaign: drawn by the page's own script from the data it carries
    keys = ["equity", "heat"] + [f"c{n}" for n in range(len(report.campaigns))]
    assert page.count('<div class="chart"') == len(keys)
    data = json.loads(page.split('id="chart-data">')[1].split("</script>")[0])
    assert list(data) == keys
    aapl = data[f"c{[c.symbol for c in report.campaigns].index('AAPL')}"]
    assert aapl["title"] == "AAPL-2024-10-01 bars" and len(aapl["b"]) == 4 * aapl["n"]
    assert "SPRING stop 147.00" in [level[2] for level in aapl["lv"]]
    assert {m[2] for m in aapl["mk"]} >= {"up", "down"}  # entries, target exits
    assert "AAPL-2024-10-01" in page and "PORTFOLIO_HEAT" in page
