"""What the orchestrator tells a campaign: trading ranges, entry signals and price updates."""

from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from campaign_engine.domain.money import difference, percent_of
from campaign_engine.domain.types import (
    InputPrice,
    MarketTime,
    Percent,
    PercentValue,
    PriceValue,
    RMultiple,
    SequenceNumber,
    Symbol,
    Timeframe,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import Pattern

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def campaign_id_for(symbol: str, range_start: UtcDatetime) -> str:
    """The human campaign id of SPEC section 1: ``AAPL-2024-10-15``."""
    return f"{symbol}-{range_start:%Y-%m-%d}"


class TradingRange(BaseModel):
    """An accumulation range found by the orchestrator: creek < ice < jump."""

    model_config = _FROZEN

    id: UUID
    symbol: Symbol
    timeframe: Timeframe
    start_time: MarketTime
    creek: InputPrice = Field(description="support")
    ice: InputPrice = Field(description="resistance")
    jump: InputPrice = Field(description="projected target")
    spring_low: InputPrice | None = None

    @model_validator(mode="after")
    def _ordered_levels(self) -> Self:
        if not self.creek < self.ice < self.jump:
            raise ValueError(
                f"levels must satisfy creek < ice < jump, got creek={self.creek} "
                f"ice={self.ice} jump={self.jump}"
            )
        if self.spring_low is not None and self.spring_low >= self.ice:
            raise ValueError(f"spring_low {self.spring_low} must be below ice {self.ice}")
        return self

    @property
    def measured_move(self) -> PriceValue:
        """M = jump - ice."""
        return difference(high=self.jump, low=self.ice)

    @property
    def width_pct(self) -> PercentValue:
        """Range width (ice - creek) / creek, in percent."""
        return percent_of(part=difference(high=self.ice, low=self.creek), whole=self.creek)

    @property
    def campaign_id(self) -> str:
        return campaign_id_for(self.symbol, self.start_time)


Targets = Annotated[tuple[InputPrice, InputPrice, InputPrice], Field(description="[t1, t2, t3]")]


class EntrySignal(BaseModel):
    """A long entry the orchestrator proposes; ``signal_id`` is its idempotency key."""

    model_config = _FROZEN

    signal_id: UUID
    symbol: Symbol
    timeframe: Timeframe
    trading_range: TradingRange
    pattern: Pattern
    entry_price: InputPrice
    stop_loss: InputPrice
    targets: Targets | None = None
    confidence: Percent
    r_multiple: RMultiple
    requested_risk_pct: Annotated[PercentValue, Field(gt=0, le=100, allow_inf_nan=False)] | None = (
        None
    )
    generated_at: MarketTime

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.stop_loss >= self.entry_price:
            raise ValueError(
                f"stop_loss {self.stop_loss} must be below entry_price {self.entry_price} "
                "(campaigns are long only)"
            )
        if self.targets is not None:
            t1, t2, t3 = self.targets
            if not t1 < t2 < t3:
                raise ValueError(f"targets must be strictly increasing, got {list(self.targets)}")
            if t1 <= self.entry_price:
                raise ValueError(f"first target {t1} must be above entry_price {self.entry_price}")
        if self.symbol != self.trading_range.symbol:
            raise ValueError(
                f"symbol {self.symbol} does not match its trading range's symbol "
                f"{self.trading_range.symbol}"
            )
        if self.timeframe != self.trading_range.timeframe:
            raise ValueError(
                f"timeframe {self.timeframe} does not match its trading range's timeframe "
                f"{self.trading_range.timeframe}"
            )
        return self

    @property
    def campaign_id(self) -> str:
        return self.trading_range.campaign_id

    @property
    def risk_per_share(self) -> PriceValue:
        return difference(high=self.entry_price, low=self.stop_loss)


class PriceUpdate(BaseModel):
    """A last price (tick) or an OHLC bar for one symbol."""

    model_config = _FROZEN

    symbol: Symbol
    as_of: MarketTime
    price: InputPrice | None = None
    open: InputPrice | None = None
    high: InputPrice | None = None
    low: InputPrice | None = None
    close: InputPrice | None = None
    sequence: SequenceNumber | None = None

    @model_validator(mode="after")
    def _tick_or_bar(self) -> Self:
        if self.price is not None:
            if any(v is not None for v in (self.open, self.high, self.low, self.close)):
                raise ValueError("give either a tick price or open/high/low/close, not both")
            return self
        o, h, low, c = self.open, self.high, self.low, self.close
        if o is None or h is None or low is None or c is None:
            raise ValueError("a price update needs a price, or all of open/high/low/close")
        if not (low <= o <= h and low <= c <= h):
            raise ValueError(f"bar must satisfy low <= open, close <= high, got {o}/{h}/{low}/{c}")
        return self

    @classmethod
    def tick(
        cls, symbol: str, as_of: UtcDatetime, price: PriceValue, sequence: int | None = None
    ) -> Self:
        return cls(symbol=symbol, as_of=as_of, price=price, sequence=sequence)

    @property
    def is_bar(self) -> bool:
        return self.price is None

    # A tick is a bar whose four prices are equal, which lets every rule read one shape.
    @property
    def bar_open(self) -> PriceValue:
        return self._pick(self.open)

    @property
    def bar_high(self) -> PriceValue:
        return self._pick(self.high)

    @property
    def bar_low(self) -> PriceValue:
        return self._pick(self.low)

    @property
    def last(self) -> PriceValue:
        """The mark: the tick price or the bar's close."""
        return self._pick(self.close)

    def _pick(self, bar_value: PriceValue | None) -> PriceValue:
        value = self.price if self.price is not None else bar_value
        assert value is not None  # guaranteed by _tick_or_bar
        return value
