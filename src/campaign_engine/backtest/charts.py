"""Charts as inline SVG, written here so the report needs nothing outside its one file: a line
chart over time (equity, heat) and a bar chart of one symbol with marks (entries, exits,
stops, targets). Floats only place pixels; every number shown is the report's decimal."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

WIDTH, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 960, 72, 84, 16, 28
_MAX_POINTS = 1200


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


@dataclass(frozen=True, slots=True)
class _Frame:
    """Maps data to pixels."""

    height: int
    low: float
    high: float
    count: int

    def y(self, value: float) -> float:
        span = (self.high - self.low) or 1.0
        inner = self.height - PAD_TOP - PAD_BOTTOM
        return PAD_TOP + inner * (self.high - value) / span

    def x(self, index: float) -> float:
        inner = WIDTH - PAD_LEFT - PAD_RIGHT
        return PAD_LEFT + inner * (index + 0.5) / max(self.count, 1)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1) if high > low else 1.0
    return [low + step * i for i in range(count)]


def _frame(values: Sequence[float], count: int, height: int) -> _Frame:
    low, high = min(values), max(values)
    pad = (high - low) * 0.06 or abs(high) * 0.01 or 1.0
    floor = 0.0 if low >= 0 else low - pad  # a chart of positive values starts at 0 or above
    return _Frame(height, max(low - pad, floor), high + pad, count)


def _axes(frame: _Frame, time_at: Callable[[int], datetime] | None, fmt: str) -> list[str]:
    parts = []
    for value in _ticks(frame.low, frame.high):
        y = frame.y(value)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
            f"{fmt.format(value)}</text>"
        )
    if time_at is not None:
        for i in sorted({round(k * (frame.count - 1) / 5) for k in range(6)}):
            parts.append(
                f'<text x="{frame.x(i):.1f}" y="{frame.height - 8}" class="tick" '
                f'text-anchor="middle">{time_at(i):%Y-%m-%d %H:%M}</text>'
            )
    return parts


def _svg(height: int, title: str, parts: Sequence[str]) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )


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
    fmt: str = "{:,.0f}",
    color: str = "#2563eb",
    limits: Sequence[Level] = (),
    height: int = 240,
) -> str:
    """``points`` (time, value) as a line over an area, with horizontal ``limits``."""
    points = thin(points)
    if not points:
        return _svg(height, title, ['<text x="20" y="30">no data</text>'])
    values = [float(v) for _, v in points] + [float(level.price) for level in limits]
    frame = _frame(values, len(points), height)
    # x by time: the run's span spread over as many slots as there are points
    start, span = points[0][0], (points[-1][0] - points[0][0]) or timedelta(seconds=1)
    last = len(points) - 1

    def at(t: datetime) -> float:
        return last * ((t - start) / span)

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{frame.x(at(t)):.1f},{frame.y(float(v)):.1f}"
        for i, (t, v) in enumerate(points)
    )
    base = frame.y(frame.low)
    area = f"{path} L{frame.x(last):.1f},{base:.1f} L{frame.x(0):.1f},{base:.1f} Z"
    parts = _axes(frame, lambda i: start + span * (i / max(last, 1)), fmt)
    parts.append(f'<path d="{area}" fill="{color}" fill-opacity="0.12" stroke="none"/>')
    parts.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.6"/>')
    for level in limits:
        parts.append(_level(frame, level, 0, len(points) - 1))
    return _svg(height, title, parts)


def _level(frame: _Frame, level: Level, first: float, last: float) -> str:
    y = frame.y(float(level.price))
    dash = ' stroke-dasharray="5 4"' if level.dashed else ""
    x1, x2 = frame.x(first), frame.x(last)
    line = (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{level.color}" '
        f'stroke-width="1.3"{dash}><title>{escape(level.label)}</title></line>'
    )
    if not level.tagged:
        return line
    return (
        f'{line}<text x="{x2 + 4:.1f}" y="{y + 4:.1f}" class="tag" fill="{level.color}">'
        f"{escape(level.label)}</text>"
    )


def _index_at(candles: Sequence[Candle], at: datetime) -> int:
    """The first candle at or after ``at`` (the last when none is)."""
    return next((i for i, c in enumerate(candles) if c.at >= at), len(candles) - 1)


def _mark(frame: _Frame, candles: Sequence[Candle], mark: Mark) -> str:
    x, y = frame.x(_index_at(candles, mark.at)), frame.y(float(mark.price))
    s = 6.0
    if mark.shape == "up":
        shape = f'<path d="M{x:.1f},{y:.1f} l{-s},{s * 1.6} h{2 * s} Z"'
    elif mark.shape == "down":
        shape = f'<path d="M{x:.1f},{y:.1f} l{-s},{-s * 1.6} h{2 * s} Z"'
    else:
        shape = f'<path d="M{x - s},{y - s} l{2 * s},{2 * s} M{x - s},{y + s} l{2 * s},{-2 * s}"'
    return (
        f'{shape} fill="{mark.color}" stroke="{mark.color}" stroke-width="2">'
        f"<title>{escape(mark.title)}</title></path>"
    )


def bar_chart(
    candles: Sequence[Candle],
    title: str,
    marks: Sequence[Mark] = (),
    levels: Sequence[Level] = (),
    height: int = 320,
) -> str:
    """Candles with ``levels`` (stops, targets: lines over their time) and ``marks``."""
    if not candles:
        return _svg(height, title, ['<text x="20" y="30">no bars</text>'])
    values = [float(c.low) for c in candles] + [float(c.high) for c in candles]
    values += [float(m.price) for m in marks] + [float(v.price) for v in levels]
    frame = _frame(values, len(candles), height)
    parts = _axes(frame, lambda i: candles[i].at, "{:,.2f}")
    width = max(1.0, (WIDTH - PAD_LEFT - PAD_RIGHT) / len(candles) * 0.7)
    for i, c in enumerate(candles):
        x = frame.x(i)
        up = c.close >= c.open
        color = "#16a34a" if up else "#dc2626"
        top, bottom = frame.y(float(max(c.open, c.close))), frame.y(float(min(c.open, c.close)))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.y(float(c.high)):.1f}" '
            f'y2="{frame.y(float(c.low)):.1f}" stroke="{color}" stroke-width="1"/>'
            f'<rect x="{x - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{max(bottom - top, 0.8):.1f}" fill="{color}" fill-opacity="0.75"/>'
        )
    for level in levels:
        first = _index_at(candles, level.start) if level.start else 0
        last = _index_at(candles, level.end) if level.end else len(candles) - 1
        parts.append(_level(frame, level, first, last))
    parts.extend(_mark(frame, candles, m) for m in marks)
    return _svg(height, title, parts)


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
