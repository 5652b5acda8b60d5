"""The report's charts as data for the page to draw (``chart_script``): a line over time
(equity, heat) and one symbol's bars with marks (entries, exits) and levels (stops, targets).
Python decides what each chart shows (the thinned points, the candles of a campaign's window,
where each mark and level falls, the time ticks); the page only places pixels. Floats only
place pixels: every number a reader sees as text is the report's decimal, written here."""

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

_MAX_POINTS = 1200
_TIME_TICKS = 6
Chart = dict[str, Any]
"""One chart's data, as the page's script reads it."""


@dataclass(frozen=True, slots=True)
class Candle:
    at: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True)
class Mark:
    """A point on a bar chart: at a time and a price, drawn as ``shape`` in ``color``."""

    at: datetime
    price: Decimal
    shape: str  # "up", "down" or "cross"
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class Level:
    """A horizontal line from ``start`` to ``end`` (the whole chart when None)."""

    price: Decimal
    color: str
    label: str
    start: datetime | None = None
    end: datetime | None = None
    dashed: bool = True
    tagged: bool = True  # its label written at its end (else only shown on hover)


def _minute(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"


def _tick_indices(count: int) -> list[int]:
    return sorted({round(k * (count - 1) / (_TIME_TICKS - 1)) for k in range(_TIME_TICKS)})


def _level(level: Level, first: float, last: float) -> list[Any]:
    return [
        float(level.price),
        level.color,
        level.label,
        first,
        last,
        int(level.dashed),
        int(level.tagged),
    ]


def thin(points: Sequence[tuple[datetime, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """At most about ``_MAX_POINTS`` points: each run of points keeps its first, lowest,
    highest and last, so no peak or trough is lost."""
    if len(points) <= _MAX_POINTS:
        return list(points)
    size = -(-len(points) // (_MAX_POINTS // 4))
    kept: list[tuple[datetime, Decimal]] = []
    for start in range(0, len(points), size):
        run = points[start : start + size]
        picks = {0, len(run) - 1}
        picks |= {min(range(len(run)), key=lambda i: run[i][1])}
        picks |= {max(range(len(run)), key=lambda i: run[i][1])}
        kept.extend(run[i] for i in sorted(picks))
    return kept


def line_chart(
    points: Sequence[tuple[datetime, Decimal]],
    title: str,
    fmt: str = "money",
    color: str = "#2563eb",
    limits: Sequence[Level] = (),
    height: int = 240,
) -> Chart:
    """``points`` (time, value) as a line over an area, with horizontal ``limits``; ``fmt``
    says how the value axis reads ("money": whole amounts, "pct": tenths of a percent)."""
    points = thin(points)
    chart: Chart = {"title": title, "h": height, "fmt": fmt, "color": color, "n": len(points)}
    if not points:
        return chart
    # x by time: the run's span spread over as many slots as there are points
    start, span = points[0][0], (points[-1][0] - points[0][0]) or timedelta(seconds=1)
    last = len(points) - 1
    chart["x"] = [round(last * ((t - start) / span), 3) for t, _ in points]
    chart["v"] = [float(v) for _, v in points]
    chart["ticks"] = [
        [i, _minute(start + span * (i / max(last, 1)))] for i in _tick_indices(len(points))
    ]
    chart["lv"] = [_level(level, 0, last) for level in limits]
    return chart


def _index_at(times: Sequence[datetime], at: datetime) -> int:
    """The first candle at or after ``at`` (the last when none is); ``times`` are the
    candles' times, in order."""
    return min(bisect_left(times, at), len(times) - 1)


def bar_chart(
    candles: Sequence[Candle],
    title: str,
    marks: Sequence[Mark] = (),
    levels: Sequence[Level] = (),
    height: int = 320,
) -> Chart:
    """Candles with ``levels`` (stops, targets: lines over their time) and ``marks``."""
    chart: Chart = {"title": title, "h": height, "n": len(candles)}
    if not candles:
        return chart
    flat: list[float] = []
    for c in candles:
        flat += (float(c.open), float(c.high), float(c.low), float(c.close))
    chart["b"] = flat
    times = [c.at for c in candles]
    chart["ticks"] = [[i, _minute(candles[i].at)] for i in _tick_indices(len(candles))]
    chart["lv"] = [
        _level(
            level,
            _index_at(times, level.start) if level.start else 0,
            _index_at(times, level.end) if level.end else len(candles) - 1,
        )
        for level in levels
    ]
    chart["mk"] = [
        [_index_at(times, m.at), float(m.price), m.shape, m.color, m.title] for m in marks
    ]
    return chart


def grouped(candles: Sequence[Candle], most: int) -> list[Candle]:
    """At most ``most`` candles: runs of consecutive ones merged (first open, highest high,
    lowest low, last close, last time)."""
    if len(candles) <= most:
        return list(candles)
    size = -(-len(candles) // most)
    return [
        Candle(
            at=run[-1].at,
            open=run[0].open,
            high=max(c.high for c in run),
            low=min(c.low for c in run),
            close=run[-1].close,
        )
        for run in (candles[i : i + size] for i in range(0, len(candles), size))
    ]
