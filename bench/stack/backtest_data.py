"""The backtest benchmark's data, seeded and generated (never kept): ``symbols`` random walks
of daily bars, one to three Wyckoff campaigns on a fraction of them (a trading range, then a
Spring, an SOS and an LPS signal, then a markup to the targets or a fall through the spring's
low), written as the files ``campaigns backtest`` reads (signals JSON, bars CSV); and a slice of
it for the live stack."""

import csv
import io
import json
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.vocabulary import Pattern

D = Decimal
FIRST_DAY = datetime(2023, 1, 2, 21, 0, tzinfo=UTC)  # a Monday, bars stamped at the close
IDS = uuid.UUID("6f1f7c2e-2d7b-4b0e-9d39-0c4b5e7a1d11")


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
