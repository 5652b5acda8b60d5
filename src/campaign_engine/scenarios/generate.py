"""Write the demo's ``prices.csv`` from per-symbol waypoints, deterministically.

    python -m campaign_engine.scenarios.generate [output.csv]

Each symbol's close follows straight lines between its waypoints, with a little seeded noise;
every bar opens at the previous close (no gaps, so stops and targets fill at their levels
however the publisher merges bars) and has small wicks. *Bands* keep a symbol's lows and highs
away from the levels its campaign must not touch yet (a stop, the next target, the spring
low): a wick is cut at the band, and a close outside it is refused, so the waypoints must be
moved rather than the outcome changed by accident. All arithmetic is Decimal; the noise comes
from integers of one seeded generator, so the same script always writes the same file.
"""

import csv
import io
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise
from pathlib import Path

SEED = 20241015
BARS = 300
FIRST_BAR_AT = datetime(2024, 10, 15, 14, 0, tzinfo=UTC)
BAR_INTERVAL = timedelta(hours=1)
CENT = Decimal("0.01")
OUTPUT = Path(__file__).resolve().parent / "demo" / "prices.csv"

D = Decimal


@dataclass(frozen=True, slots=True)
class Band:
    """From bar ``first`` to bar ``last`` (inclusive) lows stay above ``floor`` and highs
    below ``ceiling`` (None: no bound)."""

    first: int
    last: int
    floor: Decimal | None = None
    ceiling: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SymbolPath:
    symbol: str
    waypoints: tuple[tuple[int, Decimal], ...]  # (bar, close), the first at bar 0
    noise: Decimal  # largest deviation of a close from its line
    wick: Decimal  # largest wick beyond the bar's open and close
    bands: tuple[Band, ...] = ()
    gaps: frozenset[int] = frozenset()  # bars that open near their own line, not at the last close


def _path(
    symbol: str, points: str, noise: str, wick: str, bands: tuple[Band, ...] = ()
) -> SymbolPath:
    """``points`` as "bar:close bar:close ..." reads like the chart it draws."""
    waypoints = tuple(
        (int(bar), D(close)) for bar, close in (item.split(":") for item in points.split())
    )
    return SymbolPath(symbol, waypoints, D(noise), D(wick), bands)


def _band(first: int, last: int, floor: str | None, ceiling: str | None) -> Band:
    return Band(first, last, D(floor) if floor else None, D(ceiling) if ceiling else None)


# The stories (scenario.json has the signals and the levels; bars named here are where the
# crossings happen, each at least 15 bars from any signal and from the campaign's other events).
PATHS: tuple[SymbolPath, ...] = (
    # Spring 148.50 at bar 20 -> ice 150 (~bar 49) -> SOS 150.25 at 70 -> LPS 151.00 at 100
    # -> 156 (~187) -> 159 (~230) -> 162 (~270): the whole ladder.
    _path(
        "AAPL",
        "0:147.80 10:148.20 20:148.50 35:148.80 44:149.40 54:150.70 60:150.80 70:150.30 "
        "85:151.60 100:151.05 115:151.40 130:151.30 150:152.50 175:154.80 185:155.40 "
        "192:156.60 205:157.00 215:157.60 225:158.30 234:159.60 245:159.80 255:160.60 "
        "265:161.40 274:162.60 285:162.80 299:163.00",
        "0.12",
        "0.15",
        (
            _band(0, 45, "147.40", "149.80"),  # above the Spring's stop, below the ice
            _band(46, 56, "148.80", None),
            _band(57, 183, "149.80", "155.70"),  # above every stop, below 156
            _band(184, 195, "154.00", None),
            _band(196, 226, "153.00", "158.70"),  # above the trailed stops, below 159
            _band(227, 238, "156.50", None),
            _band(239, 266, "156.50", "161.80"),  # above the stops trailed to 156, below 162
            _band(267, 299, "156.50", None),
        ),
    ),
    # Spring skipped: SOS 421.00 at bar 40, LPS 424.00 at 90 -> 440 (~200) -> 450 (~248)
    # -> 460 (~281).
    _path(
        "MSFT",
        "0:416.00 15:418.50 28:421.80 40:421.10 55:423.50 75:425.50 90:424.10 110:426.00 "
        "130:427.00 150:429.00 175:434.00 193:438.40 204:441.50 215:442.50 230:446.00 "
        "242:448.60 251:451.20 262:452.00 275:457.80 284:461.20 299:461.50",
        "0.35",
        "0.40",
        (
            _band(0, 89, "415.00", "439.50"),  # above the SOS stop, below 440
            _band(90, 195, "418.00", "439.50"),  # above the LPS stop too
            _band(196, 206, "426.00", None),
            _band(207, 242, "430.00", "449.50"),  # above breakeven, below 450
            _band(243, 254, "441.00", None),
            _band(255, 278, "441.00", "459.50"),  # above the stops trailed to 440, below 460
            _band(279, 299, "441.00", None),
        ),
    ),
    # Spring 99.50 at bar 30, stop 97.00 below the spring low 98.00; the rally fails under
    # the ice and the spring low breaks (~bar 172).
    _path(
        "NVDA",
        "0:101.00 15:100.00 30:99.60 50:101.50 75:104.00 95:106.50 115:105.00 130:103.50 "
        "150:101.00 165:99.20 175:97.60 190:96.50 210:97.50 240:96.00 299:95.00",
        "0.10",
        "0.12",
        (_band(0, 168, "98.30", "109.00"),),  # above the spring low, below the ice
    ),
    # LPS as sole entry 252.00 at bar 80, stop 246.00: it drifts down to the stop (~157).
    _path(
        "TSLA",
        "0:247.50 30:248.50 55:251.00 80:252.10 100:253.50 120:252.00 130:251.50 145:249.00 "
        "160:245.20 175:243.00 220:241.50 299:240.00",
        "0.20",
        "0.25",
        (_band(0, 152, "246.60", "269.00"),),  # above the stop, below the first target
    ),
    # The heat batch's winner: LPS as sole entry 505.00 at bar 130 -> 530 (~188) -> 545
    # (~238) -> 560 (~277).
    _path(
        "META",
        "0:492.00 40:498.00 80:503.00 115:505.50 130:505.20 150:510.00 175:524.00 "
        "183:527.50 192:532.00 205:534.00 225:541.00 233:543.00 241:546.80 252:549.00 "
        "268:557.00 280:561.50 299:563.00",
        "0.40",
        "0.50",
        (
            _band(90, 185, "496.00", "529.50"),  # above the stop, below 530
            _band(186, 196, "506.00", None),
            _band(197, 235, "508.00", "544.50"),  # above breakeven, below 545
            _band(236, 246, "531.00", None),
            _band(247, 273, "531.00", "559.50"),  # above the stop trailed to 530, below 560
            _band(274, 299, "531.00", None),
        ),
    ),
    # The heat batch's losers: no campaign is ever opened, their prices just go by.
    _path(
        "GOOG",
        "0:166.00 60:168.50 130:171.20 180:173.00 240:170.50 299:172.00",
        "0.15",
        "0.20",
    ),
    _path(
        "AMZN",
        "0:186.00 70:188.50 130:191.10 190:189.00 250:192.50 299:193.50",
        "0.15",
        "0.20",
    ),
)


class GenerationError(ValueError):
    """The waypoints put a close outside a band: move the waypoints."""


def _line(waypoints: tuple[tuple[int, Decimal], ...], bar: int) -> Decimal:
    for (b0, p0), (b1, p1) in pairwise(waypoints):
        if b0 <= bar <= b1:
            return p0 + (p1 - p0) * (bar - b0) / (b1 - b0)
    raise GenerationError(f"bar {bar} lies outside the waypoints {waypoints[0][0]}..")


def _jitter(rng: random.Random, size: Decimal) -> Decimal:
    """A whole number of cents between -size and +size."""
    cents = int(size / CENT)
    return rng.randint(-cents, cents) * CENT


def _within(value: Decimal, band: Band) -> bool:
    return (band.floor is None or value > band.floor) and (
        band.ceiling is None or value < band.ceiling
    )


@dataclass(frozen=True, slots=True)
class Bar:
    bar: int
    symbol: str
    as_of: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def bars_of(
    path: SymbolPath,
    rng: random.Random,
    *,
    bars: int = BARS,
    first_bar_at: datetime = FIRST_BAR_AT,
    interval: timedelta = BAR_INTERVAL,
) -> Iterator[Bar]:
    if path.waypoints[0][0] != 0 or path.waypoints[-1][0] != bars - 1:
        raise GenerationError(f"{path.symbol}: waypoints must run from bar 0 to bar {bars - 1}")
    waypoint_bars = {bar for bar, _ in path.waypoints}
    previous_close = path.waypoints[0][1]
    for i in range(bars):
        line = _line(path.waypoints, i).quantize(CENT, rounding=ROUND_HALF_EVEN)
        close = line if i in waypoint_bars else line + _jitter(rng, path.noise)
        open_ = line + _jitter(rng, path.noise) if i in path.gaps else previous_close
        high = max(open_, close) + abs(_jitter(rng, path.wick))
        low = min(open_, close) - abs(_jitter(rng, path.wick))
        for band in (b for b in path.bands if b.first <= i <= b.last):
            for name, value in (("open", open_), ("close", close)):
                if not _within(value, band):
                    raise GenerationError(
                        f"{path.symbol} bar {i}: {name} {value} is outside the band "
                        f"{band.floor}..{band.ceiling}; move the waypoints"
                    )
            if band.ceiling is not None:
                high = min(high, band.ceiling)
            if band.floor is not None:
                low = max(low, band.floor)
        yield Bar(i, path.symbol, first_bar_at + i * interval, open_, high, low, close)
        previous_close = close


def generate(
    paths: tuple[SymbolPath, ...] = PATHS,
    seed: int = SEED,
    *,
    bars: int = BARS,
    first_bar_at: datetime = FIRST_BAR_AT,
) -> list[Bar]:
    """Every bar, ordered by bar index and then by symbol as listed."""
    rng = random.Random(seed)  # noqa: S311 - synthetic prices, not security
    by_symbol = [list(bars_of(path, rng, bars=bars, first_bar_at=first_bar_at)) for path in paths]
    return [each[i] for i in range(bars) for each in by_symbol]


def csv_text(bars: list[Bar]) -> str:
    """The bars as a scenario's ``prices.csv``."""
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["bar", "symbol", "as_of", "open", "high", "low", "close"])
    for b in bars:
        as_of = b.as_of.isoformat().replace("+00:00", "Z")
        writer.writerow([b.bar, b.symbol, as_of, b.open, b.high, b.low, b.close])
    return handle.getvalue()


def write_csv(bars: list[Bar], output: Path) -> None:
    output.write_text(csv_text(bars), encoding="utf-8", newline="")


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else OUTPUT
    try:
        bars = generate()
    except GenerationError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    write_csv(bars, output)
    sys.stdout.write(f"wrote {len(bars)} bars to {output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
