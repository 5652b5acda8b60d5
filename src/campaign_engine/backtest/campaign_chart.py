"""Each campaign's chart in the report: a window of its symbol's bars around its life, its
entries and exits marked, its targets, invalidation level and stops (each entry's stop over
time, moved by the targets) drawn as levels."""

import bisect
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from campaign_engine.backtest.campaigns import CampaignRow
from campaign_engine.backtest.chart_bars import SymbolBars
from campaign_engine.backtest.charts import Chart, Level, Mark, bar_chart, grouped
from campaign_engine.backtest.engine import BacktestRun
from campaign_engine.backtest.metrics import ExitReason
from campaign_engine.domain.events import ExitsTriggered, StopMove, StopsTrailed

_EXIT_LOOK = {
    ExitReason.TARGET_1: ("down", "#15803d"),
    ExitReason.TARGET_2: ("down", "#15803d"),
    ExitReason.TARGET_3: ("down", "#15803d"),
    ExitReason.STOP: ("cross", "#dc2626"),
    ExitReason.TRAILED_STOP: ("cross", "#ea580c"),
    ExitReason.INVALIDATION: ("cross", "#7c3aed"),
}
_BEFORE, _AFTER, _MOST_CANDLES = 15, 10, 240


def _stop(pattern: str, price: Decimal, start: datetime | None, end: datetime | None) -> Level:
    return Level(price, "#dc2626", f"{pattern} stop {price}", start, end, False, False)


def stop_moves(run: BacktestRun) -> dict[str, list[tuple[datetime, StopMove]]]:
    """Every campaign's stop moves in the order announced, gathered in one pass."""
    moves: dict[str, list[tuple[datetime, StopMove]]] = {}
    for e in run.events:
        if isinstance(e.data, ExitsTriggered | StopsTrailed):
            for m in e.data.stops_moved:
                moves.setdefault(e.campaign_id, []).append((e.occurred_at, m))
    return moves


def _stops(moves: Sequence[tuple[datetime, StopMove]], c: CampaignRow) -> list[Level]:
    """Each entry's stop over time: from its fill, moved by the targets, to its close."""
    levels = []
    for entry in c.entries:
        start, price = entry.opened_at, entry.initial_stop
        for at, move in moves:
            if move.pattern.value == entry.pattern:
                levels.append(_stop(entry.pattern, price, start, at))
                start, price = at, move.stop
        levels.append(_stop(entry.pattern, price, start, entry.closed_at))
    return levels


def campaign_chart(
    moves: Sequence[tuple[datetime, StopMove]], c: CampaignRow, bars: SymbolBars
) -> Chart:
    times = bars.times
    first = bisect.bisect_right(times, c.created_at) if c.created_at else 0
    last = bisect.bisect_left(times, c.closed_at) if c.closed_at else len(times) - 1
    window = grouped(bars.candles(max(0, first - _BEFORE), last + _AFTER + 1), _MOST_CANDLES)
    targets = sorted({t for e in c.entries for t in e.targets})
    levels = [Level(price, "#15803d", f"target {price}") for price in targets]
    if (low := c.levels.get("spring_low")) is not None:
        levels.append(Level(low, "#7c3aed", f"invalidation {low}"))
    levels += _stops(moves, c)
    marks = [
        Mark(e.opened_at, e.price, "up", "#2563eb", f"{e.pattern} {e.shares} @ {e.price}")
        for e in c.entries
        if e.opened_at
    ]
    marks += [
        Mark(x.at, x.price, *_EXIT_LOOK[x.reason], f"{x.reason} {x.pattern} {x.shares} @ {x.price}")
        for x in c.exits
    ]
    return bar_chart(window, f"{c.campaign_id} bars", marks, levels)
