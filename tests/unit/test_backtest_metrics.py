"""The backtest's statistics on numbers small enough to check by hand: trade statistics, the
max drawdown and its duration, and why each exit happened (a stop trailed or not)."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from campaign_engine.backtest.engine import run_backtest
from campaign_engine.backtest.metrics import ExitReason, drawdown, exit_reason, trade_stats
from campaign_engine.backtest.report import build_report
from campaign_engine.backtest.sources import merge_in_time
from campaign_engine.backtest.timeline import Timeline
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern
from campaign_engine.testing.builders import T0, bar, signal

D = Decimal


def test_trade_statistics() -> None:
    trades = [(D(300), D(2)), (D(-100), D(-1)), (D(0), D(0)), (D(-200), D(-2)), (D(500), None)]
    stats = trade_stats(trades)
    assert (stats.trades, stats.wins, stats.losses, stats.breakeven) == (5, 2, 2, 1)
    assert stats.win_rate_pct == D("40.00")
    assert (stats.gross_profit, stats.gross_loss, stats.net_pnl) == (D(800), D(300), D(500))
    assert stats.profit_factor == D("2.6667")  # 800 / 300
    assert stats.expectancy == D("100.00")  # 500 / 5 = 0.4 x 400 - 0.4 x 150
    assert stats.average_r == D("-0.2500")  # (2 - 1 + 0 - 2) / 4: the trade without R is left out
    assert (stats.average_win, stats.average_loss) == (D("400.00"), D("-150.00"))
    assert (stats.best, stats.worst) == (D(500), D(-200))


def test_no_loss_no_profit_factor_and_no_trades_no_rates() -> None:
    assert trade_stats([(D(10), D(1))]).profit_factor is None
    empty = trade_stats([])
    assert (empty.trades, empty.win_rate_pct, empty.expectancy, empty.average_r) == (
        0,
        None,
        None,
        None,
    )


def _curve(*values: int) -> list[tuple[datetime, Decimal]]:
    return [(T0 + timedelta(hours=i), D(v)) for i, v in enumerate(values)]


def test_max_drawdown_and_the_longest_time_under_water() -> None:
    # 110 -> 99 is 10%, back at 110 three hours after the peak; 120 -> 102 is 15%, never
    # recovered (115 at the end).
    result = drawdown(_curve(100, 110, 99, 105, 110, 120, 102, 115))
    assert (result.max_drawdown_pct, result.max_drawdown, result.peak) == (
        D("15.0000"),
        D(18),
        D(120),
    )
    assert (result.peak_at, result.trough_at) == (T0 + timedelta(hours=5), T0 + timedelta(hours=6))
    assert result.recovered_at is None
    longest = result.longest
    assert longest is not None
    assert (longest.start, longest.end, longest.recovered) == (
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=4),
        True,
    )
    assert (longest.duration, longest.duration_seconds, longest.points) == (
        timedelta(hours=3),
        3 * 3600,
        4,
    )


def test_a_drawdown_that_recovers_and_one_not_over() -> None:
    recovered = drawdown(_curve(100, 90, 100, 101))
    assert (recovered.max_drawdown_pct, recovered.recovered_at) == (
        D("10.0000"),
        T0 + timedelta(hours=2),
    )
    open_ended = drawdown(_curve(100, 90, 95))
    assert open_ended.longest is not None
    assert (open_ended.longest.duration, open_ended.longest.recovered) == (
        timedelta(hours=2),
        False,
    )
    rising = drawdown(_curve(100, 100, 101))
    assert (rising.max_drawdown_pct, rising.longest, rising.peak_at) == (D(0), None, None)


def test_exit_reasons_tell_a_trailed_stop_from_the_initial_one() -> None:
    # Spring 148.50, stop 147.00, targets 150/156/159 (333 shares). AAPL reaches t1 (166 sold,
    # stop to breakeven) and falls back: the rest leaves at 148.50, a trailed stop. MSFT (an
    # SOS of its own range) falls straight to its initial stop.
    from campaign_engine.testing.builders import trading_range

    msft = trading_range(symbol="MSFT", creek="95.00", ice="100.00", jump="110.00")
    signals = [
        signal(Pattern.SPRING, at=T0),
        signal(Pattern.SOS, entry="100.50", stop="99.00", rng=msft, at=T0),
    ]
    bars = [
        bar("149.00", "150.20", "148.90", "150.10", 60),
        bar("100.40", "100.60", "100.10", "100.20", 60, "MSFT"),
        bar("149.50", "149.60", "148.00", "148.20", 120),
        bar("100.00", "100.10", "98.50", "98.60", 120, "MSFT"),
    ]
    timeline = Timeline(tuple(merge_in_time(signals, bars)), "test")
    report = build_report(run_backtest(timeline), timeline)
    exits = {(c.symbol, x.reason, x.shares, x.price) for c in report.campaigns for x in c.exits}
    assert exits == {
        ("AAPL", ExitReason.TARGET_1, D(166), D("150.00")),
        ("AAPL", ExitReason.TRAILED_STOP, D(167), D("148.50")),
        ("MSFT", ExitReason.STOP, D(1333), D("99.00")),  # the Spring skipped: 2%
    }
    assert set(report.by_exit_reason) == {"TARGET_1", "TRAILED_STOP", "STOP"}
    assert report.by_exit_reason["STOP"].average_r == D("-1.0000")
    assert report.by_exit_reason["TRAILED_STOP"].realized_pnl == D(0)
    run = run_backtest(timeline)
    position = run.states["AAPL-2024-10-15"].positions[0]
    assert exit_reason(OrderPurpose.TARGET_2, position) is ExitReason.TARGET_2
    assert exit_reason(OrderPurpose.INVALIDATION, position) is ExitReason.INVALIDATION
    untrailed = replace(position, stop=position.initial_stop)
    assert exit_reason(OrderPurpose.STOP, untrailed) is ExitReason.STOP
