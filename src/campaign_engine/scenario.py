"""Scenarios: trading ranges, entry signals sent at given bars, the prices they are played
against, and what must come of each campaign.

A scenario is a folder with ``scenario.json`` and the ``prices.csv`` it names (columns
``bar,symbol,as_of,open,high,low,close``, one row per symbol and bar). The packaged demo is
``campaign_engine/scenarios/demo``; copy it (``export_demo``) and edit it. A file that does not
describe a playable scenario is refused with every problem found, each naming where it is.
"""

import csv
import io
import json
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from campaign_engine.domain.market import EntrySignal, PriceUpdate, Targets, TradingRange
from campaign_engine.domain.types import Percent, Price, Symbol, Timeframe, UtcDatetime
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, Pattern
from campaign_engine.validation_errors import error_message, problem_lines

SCENARIO_FILE = "scenario.json"
PRICE_COLUMNS = ("bar", "symbol", "as_of", "open", "high", "low", "close")
_MAX_PROBLEMS = 20
_FROZEN = ConfigDict(frozen=True, extra="forbid")

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
"""A name the file uses to refer to a range, a signal or a batch."""


class ScenarioError(ValueError):
    """The scenario cannot be played; the message lists every problem found."""


class ExpectedStatus(StrEnum):
    """A campaign status, or NOT_CREATED: every signal of the range was refused."""

    ACTIVE = "ACTIVE"
    MARKUP = "MARKUP"
    COMPLETED = "COMPLETED"
    INVALIDATED = "INVALIDATED"
    NOT_CREATED = "NOT_CREATED"


class Expectation(BaseModel):
    model_config = _FROZEN

    status: ExpectedStatus
    entries: tuple[Pattern, ...] = Field(
        default=(), description="the patterns whose entries filled, in SPRING, SOS, LPS order"
    )


class ScenarioRange(BaseModel):
    """A trading range and what must become of its campaign."""

    model_config = _FROZEN

    key: Key
    symbol: Symbol
    timeframe: Timeframe = "1h"
    start_time: UtcDatetime
    creek: Price
    ice: Price
    jump: Price
    spring_low: Price | None = None
    story: str = ""
    expect: Expectation

    def trading_range(self, range_id: UUID, shift: timedelta = timedelta(0)) -> TradingRange:
        return TradingRange(
            id=range_id,
            symbol=self.symbol,
            timeframe=self.timeframe,
            start_time=self.start_time + shift,
            creek=self.creek,
            ice=self.ice,
            jump=self.jump,
            spring_low=self.spring_low,
        )

    def campaign_id(self, shift: timedelta = timedelta(0)) -> str:
        return f"{self.symbol}-{self.start_time + shift:%Y-%m-%d}"


class ScenarioSignal(BaseModel):
    """An entry signal, sent just before bar ``bar`` is published: alone, or together with
    the other signals of its ``batch`` (decided in priority order)."""

    model_config = _FROZEN

    id: Key
    range: Key
    bar: Annotated[int, Field(ge=0)]
    batch: Key | None = None
    pattern: Pattern
    entry_price: Price
    stop_loss: Price
    targets: Targets | None = None
    confidence: Percent
    r_multiple: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    requested_risk_pct: Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    note: str = ""

    def entry_signal(
        self, trading_range: TradingRange, signal_id: UUID, generated_at: datetime
    ) -> EntrySignal:
        return EntrySignal(
            signal_id=signal_id,
            symbol=trading_range.symbol,
            timeframe=trading_range.timeframe,
            trading_range=trading_range,
            pattern=self.pattern,
            entry_price=self.entry_price,
            stop_loss=self.stop_loss,
            targets=self.targets,
            confidence=self.confidence,
            r_multiple=self.r_multiple,
            requested_risk_pct=self.requested_risk_pct,
            generated_at=generated_at,
        )


class ScenarioFile(BaseModel):
    """What ``scenario.json`` holds."""

    model_config = _FROZEN

    name: str
    description: str = ""
    prices: str = Field(default="prices.csv", description="the price file, next to this one")
    ranges: tuple[ScenarioRange, ...] = Field(min_length=1)
    signals: tuple[ScenarioSignal, ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Step:
    """What is sent before one bar: one signal alone, or a batch."""

    bar: int
    signals: tuple[ScenarioSignal, ...]
    batch: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    ranges: tuple[ScenarioRange, ...]
    signals: tuple[ScenarioSignal, ...]
    bars: tuple[tuple[PriceUpdate, ...], ...]  # bars[i]: every symbol's bar i
    source: str

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.symbol for r in self.ranges))

    def range(self, key: str) -> ScenarioRange:
        return next(r for r in self.ranges if r.key == key)

    def steps(self) -> dict[int, list[Step]]:
        """Signals by the bar they go before, in file order; a batch goes where its first
        signal is listed."""
        by_bar: dict[int, list[Step]] = {}
        done: set[str] = set()
        for signal in self.signals:
            if signal.batch is None:
                by_bar.setdefault(signal.bar, []).append(Step(signal.bar, (signal,)))
            elif signal.batch not in done:
                done.add(signal.batch)
                members = tuple(s for s in self.signals if s.batch == signal.batch)
                by_bar.setdefault(signal.bar, []).append(Step(signal.bar, members, signal.batch))
        return by_bar


# --- loading ---------------------------------------------------------------------------------


def packaged_demo() -> Traversable:
    """The demo scenario's folder inside the installed package."""
    return files("campaign_engine.scenarios").joinpath("demo")


def load_scenario(source: Path | None = None) -> Scenario:
    """A scenario from a folder holding ``scenario.json``, or from the JSON file itself;
    None means the packaged demo."""
    folder: Path | Traversable
    if source is None:
        folder = packaged_demo()
        document = folder.joinpath(SCENARIO_FILE)
    elif source.is_dir():
        folder, document = source, source / SCENARIO_FILE
    else:
        folder, document = source.parent, source
    origin = str(document)
    if not document.is_file():
        raise ScenarioError(f"{origin}: no such scenario file")
    spec = _parse_document(document.read_text(encoding="utf-8"), origin)
    prices = folder.joinpath(spec.prices)
    if not prices.is_file():
        raise ScenarioError(f"{origin}: its price file {spec.prices!r} is not at {prices}")
    bars = parse_prices(prices.read_text(encoding="utf-8"), str(prices), spec.ranges)
    return build_scenario(spec, bars, origin)


def export_demo(destination: Path) -> Path:
    """Copy the packaged demo into ``destination`` (a new or empty folder) to edit it."""
    if destination.exists() and any(destination.iterdir()):
        raise ScenarioError(f"{destination} is not empty; choose a new folder")
    destination.mkdir(parents=True, exist_ok=True)
    demo = packaged_demo()
    for name in (SCENARIO_FILE, ScenarioFile.model_fields["prices"].default):
        with demo.joinpath(name).open("rb") as src, (destination / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return destination


def _refuse(origin: str, problems: Sequence[str]) -> ScenarioError:
    shown = list(problems[:_MAX_PROBLEMS])
    if len(problems) > _MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
    return ScenarioError(f"{origin} is not a playable scenario:\n  - " + "\n  - ".join(shown))


def _parse_document(text: str, origin: str) -> ScenarioFile:
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{origin} is not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise _refuse(origin, problem_lines(error, whole="(file)")) from None
    problems = list(_cross_check(spec))
    if problems:
        raise _refuse(origin, problems)
    return spec


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, n in Counter(values).items() if n > 1)


def _cross_check(spec: ScenarioFile) -> Iterable[str]:
    """What each part cannot check alone: references, uniqueness, signals against ranges."""
    for key in _duplicates(r.key for r in spec.ranges):
        yield f"ranges: key {key!r} is used twice"
    for campaign in _duplicates(r.campaign_id() for r in spec.ranges):
        yield (
            f"ranges: two ranges make campaign {campaign} (one campaign per symbol and start "
            "date); give them different start dates"
        )
    for key in _duplicates(s.id for s in spec.signals):
        yield f"signals: id {key!r} is used twice"
    ranges = {r.key: r for r in spec.ranges}
    for n, s in enumerate(spec.signals):
        where = f"signals[{n}] ({s.id})"
        scenario_range = ranges.get(s.range)
        if scenario_range is None:
            yield f"{where}.range: no range has key {s.range!r}"
            continue
        try:
            trading_range = scenario_range.trading_range(UUID(int=0))
        except ValidationError:
            continue  # the range's own problem is reported below
        try:
            s.entry_signal(trading_range, UUID(int=n), scenario_range.start_time)
        except ValidationError as error:
            yield from (f"{where}: {error_message(e)}" for e in error.errors())
    batches: dict[str, set[int]] = {}
    for s in spec.signals:
        if s.batch is not None:
            batches.setdefault(s.batch, set()).add(s.bar)
    for batch, bars in sorted(batches.items()):
        if len(bars) > 1:
            yield f"signals: batch {batch!r} is spread over bars {sorted(bars)}; one bar per batch"
    for n, r in enumerate(spec.ranges):
        where = f"ranges[{n}] ({r.key})"
        try:
            r.trading_range(UUID(int=0))
        except ValidationError as error:
            yield from (f"{where}: {error_message(e)}" for e in error.errors())
        patterns = {s.pattern for s in spec.signals if s.range == r.key}
        if r.expect.status is ExpectedStatus.NOT_CREATED and r.expect.entries:
            yield f"{where}.expect: a campaign that is not created has no entries"
        for pattern in r.expect.entries:
            if pattern not in patterns:
                yield f"{where}.expect.entries: no {pattern.value} signal is sent for this range"
        order = [p for p in LONG_SEQUENCE if p in r.expect.entries]
        if list(r.expect.entries) != order or len(set(order)) != len(order):
            yield f"{where}.expect.entries: list each pattern once, in SPRING, SOS, LPS order"


def parse_prices(
    text: str, origin: str, ranges: Sequence[ScenarioRange]
) -> tuple[tuple[PriceUpdate, ...], ...]:
    """Bars by index, each with one update per symbol of the scenario, in the ranges' order."""
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in reader.fieldnames or ())
    missing = [c for c in PRICE_COLUMNS if c not in columns]
    if missing:
        raise ScenarioError(
            f"{origin}: the header must name the columns {', '.join(PRICE_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    symbols = tuple(dict.fromkeys(r.symbol for r in ranges))
    by_bar: dict[int, dict[str, PriceUpdate]] = {}
    problems: list[str] = []
    for row in reader:
        line = f"line {reader.line_num}"
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            bar = int(values["bar"])
            if bar < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{line}: bar must be a whole number >= 0, got {values['bar']!r}")
            continue
        try:
            update = PriceUpdate.model_validate(
                {k: values[k] or None for k in ("symbol", "as_of", "open", "high", "low", "close")}
            )
        except ValidationError as error:
            problems.extend(problem_lines(error, prefix=f"{line}: ", whole="(file)"))
            continue
        if update.symbol not in symbols:
            problems.append(f"{line}: no range trades {update.symbol}")
        elif update.symbol in by_bar.setdefault(bar, {}):
            problems.append(f"{line}: a second {update.symbol} row for bar {bar}")
        else:
            by_bar[bar][update.symbol] = update
    count = max(by_bar, default=-1) + 1
    if count == 0 and not problems:
        problems.append("no price rows")
    for bar in range(count):
        absent = [s for s in symbols if s not in by_bar.get(bar, {})]
        if absent:
            problems.append(f"bar {bar}: no price for {', '.join(absent)}")
    if not problems:
        for symbol in symbols:
            times = [by_bar[bar][symbol].as_of for bar in range(count)]
            for bar in range(1, count):
                if times[bar] <= times[bar - 1]:
                    problems.append(f"bar {bar}: {symbol}'s as_of is not after bar {bar - 1}'s")
    if problems:
        raise _refuse(origin, problems)
    return tuple(tuple(by_bar[bar][s] for s in symbols) for bar in range(count))


def build_scenario(
    spec: ScenarioFile, bars: tuple[tuple[PriceUpdate, ...], ...], origin: str
) -> Scenario:
    late = [
        f"signals ({s.id}): bar {s.bar} is past the last bar {len(bars) - 1}"
        for s in spec.signals
        if s.bar >= len(bars)
    ]
    if late:
        raise _refuse(origin, late)
    return Scenario(
        name=spec.name,
        description=spec.description,
        ranges=spec.ranges,
        signals=spec.signals,
        bars=bars,
        source=origin,
    )


def scenario_from_text(document: str, prices: str, origin: str = "scenario") -> Scenario:
    """A scenario from the two files' contents (for tests and tools)."""
    spec = _parse_document(document, origin)
    return build_scenario(spec, parse_prices(prices, f"{origin} prices", spec.ranges), origin)
