"""What ``campaigns backtest`` prints: every campaign of a short run; of a long one the best and
the worst by P&L and where the rest are, unless every one is asked for."""

import io
from dataclasses import replace
from decimal import Decimal

import pytest
from rich.console import Console

from campaign_engine.backtest.engine import run_backtest
from campaign_engine.backtest.report import Report, build_report
from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.cli.backtest_summary import BEST_AND_WORST, summary
from campaign_engine.scenarios import load_scenario


@pytest.fixture(scope="module")
def demo_report() -> Report:
    timeline = scenario_timeline(load_scenario())
    return build_report(run_backtest(timeline), timeline)


def _printed(report: Report, every: bool = False) -> str:
    buffer = io.StringIO()
    summary(report, Console(file=buffer, width=200), every, "out/report.json")
    return buffer.getvalue()


def _long(report: Report, copies: int) -> Report:
    """The demo's campaigns many times over, each copy's P&L shifted by its number."""
    rows = tuple(
        replace(c, campaign_id=f"{c.campaign_id}-{n:03d}", total_pnl=c.total_pnl + n)
        for n in range(copies)
        for c in report.campaigns
    )
    return replace(report, campaigns=rows)


def test_a_short_run_prints_every_campaign(demo_report: Report) -> None:
    printed = _printed(demo_report)
    assert all(c.campaign_id in printed for c in demo_report.campaigns)
    assert "in all" not in printed
    assert "PORTFOLIO_HEAT 2" in printed and "equity 100,000.00 -> 123,981.50" in printed
    assert "TRAILED_STOP" in printed or "TARGET_1" in printed  # the exits by reason
    assert "SPRING" in printed.split("Trades")[1]  # the trades by pattern


def test_a_long_run_prints_the_best_and_the_worst(demo_report: Report) -> None:
    long = _long(demo_report, 40)
    printed = _printed(long)
    ranked = sorted(long.campaigns, key=lambda c: c.total_pnl)
    shown = {c.campaign_id for c in long.campaigns if c.campaign_id in printed}
    expected = {c.campaign_id for c in ranked[:BEST_AND_WORST] + ranked[-BEST_AND_WORST:]}
    assert shown == expected
    assert f"{len(long.campaigns)} campaigns in all: every one is in out/report.json" in printed
    assert "--all" in printed
    assert max(c.total_pnl for c in long.campaigns) > Decimal(0)


def test_all_prints_every_campaign_of_a_long_run(demo_report: Report) -> None:
    long = _long(demo_report, 40)
    printed = _printed(long, every=True)
    assert all(c.campaign_id in printed for c in long.campaigns)
    assert "in all" not in printed
