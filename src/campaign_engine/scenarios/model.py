"""What a scenario is: the schema of ``scenario.json`` (ranges, signals, what each campaign
must come to), the played ``Scenario`` with its bars and its steps, and the error that refuses
a file with every problem found."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from campaign_engine.domain.market import EntrySignal, PriceUpdate, Targets, TradingRange
from campaign_engine.domain.types import Percent, Price, Symbol, Timeframe, UtcDatetime
from campaign_engine.domain.vocabulary import Pattern

_MAX_PROBLEMS = 20
_FROZEN = ConfigDict(frozen=True, extra="forbid")
_BEFORE_BAR = timedelta(minutes=1)

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
"""A name the file uses to refer to a range, a signal or a batch."""


class ScenarioError(ValueError):
    """The scenario cannot be played; the message lists every problem found."""


def refuse(origin: str, problems: Sequence[str]) -> ScenarioError:
    """The error that refuses ``origin``, listing its problems (the first few, then a count)."""
    shown = list(problems[:_MAX_PROBLEMS])
    if len(problems) > _MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
    return ScenarioError(f"{origin} is not a playable scenario:\n  - " + "\n  - ".join(shown))


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

    def decision_time(self, index: int) -> datetime:
        """When the signals sent before bar ``index`` are decided, in market time (the
        backtest's and the live player's alike): a minute before its first bar, or half-way
        from the previous bar when that is closer."""
        first = min(u.as_of for u in self.bars[index])
        if index == 0:
            return first - _BEFORE_BAR
        gap = first - max(u.as_of for u in self.bars[index - 1])
        if gap <= timedelta(0):
            return first - timedelta(microseconds=1)
        return first - min(_BEFORE_BAR, gap / 2)

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
