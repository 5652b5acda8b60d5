"""The statistics of a backtest, as traders read them in freqtrade's and backtesting.py's
reports. Pure functions of numbers; ``report_json`` applies them to a run.

- A **trade** is one entry of a campaign (a SPRING, SOS or LPS position) once it is closed:
  its P&L is what its exits realized, its R that P&L over what it risked at its initial stop.
- **win rate** = trades with P&L > 0 / trades, in %; **profit factor** = gross profit / gross
  loss (None without a loss); **expectancy** = mean P&L per trade (= win rate x average win -
  loss rate x average loss); **average R** = mean R per trade.
- **max drawdown**: the largest fall of the equity curve (marked to market at every bar's
  close) from a running peak, in % of that peak, with its money and its times (peak, trough,
  recovery); **max drawdown duration**: the longest time the curve spent under a previous
  peak, from the peak to the first point back at or above it (or to the end of the run).
- **exit reasons**: a target leg (TARGET_1/2/3), a STOP at the initial stop, a TRAILED_STOP
  (a stop exit after the stop was trailed above the initial one: breakeven or t1), or an
  INVALIDATION.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from campaign_engine.domain.money import HUNDRED, ZERO
from campaign_engine.domain.positions import Position
from campaign_engine.domain.vocabulary import OrderPurpose

_CENTS = Decimal("0.01")
_RATIO = Decimal("0.0001")


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


class ExitReason(StrEnum):
    TARGET_1 = "TARGET_1"
    TARGET_2 = "TARGET_2"
    TARGET_3 = "TARGET_3"
    STOP = "STOP"
    TRAILED_STOP = "TRAILED_STOP"
    INVALIDATION = "INVALIDATION"


def exit_reason(purpose: OrderPurpose, position: Position) -> ExitReason:
    """Why a position's exit of ``purpose`` happened. A stop exit closes the position, so its
    stop then is the position's last: above the initial stop means it had been trailed."""
    if purpose is OrderPurpose.STOP and position.stop > position.initial_stop:
        return ExitReason.TRAILED_STOP
    return ExitReason(purpose.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeStats:
    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate_pct: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal  # a positive amount
    net_pnl: Decimal
    profit_factor: Decimal | None
    expectancy: Decimal | None
    average_r: Decimal | None
    average_win: Decimal | None
    average_loss: Decimal | None  # a negative amount
    best: Decimal | None
    worst: Decimal | None


def _mean(values: Sequence[Decimal], places: Decimal) -> Decimal | None:
    return _round(sum(values, ZERO) / len(values), places) if values else None


def trade_stats(trades: Iterable[tuple[Decimal, Decimal | None]]) -> TradeStats:
    """Statistics of trades given as (P&L, R); an R of None (nothing risked) is left out of
    the average R."""
    listed = list(trades)
    pnls = [pnl for pnl, _ in listed]
    rs = [r for _, r in listed if r is not None]
    wins = [p for p in pnls if p > ZERO]
    losses = [p for p in pnls if p < ZERO]
    gross_profit, gross_loss = sum(wins, ZERO), -sum(losses, ZERO)
    return TradeStats(
        trades=len(pnls),
        wins=len(wins),
        losses=len(losses),
        breakeven=len(pnls) - len(wins) - len(losses),
        win_rate_pct=_round(HUNDRED * len(wins) / len(pnls), _CENTS) if pnls else None,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net_pnl=gross_profit - gross_loss,
        profit_factor=_round(gross_profit / gross_loss, _RATIO) if gross_loss else None,
        expectancy=_mean(pnls, _CENTS),
        average_r=_mean(rs, _RATIO),
        average_win=_mean(wins, _CENTS),
        average_loss=_mean(losses, _CENTS),
        best=max(pnls, default=None),
        worst=min(pnls, default=None),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Underwater:
    """A stretch of the equity curve below a previous peak."""

    start: datetime  # the peak
    end: datetime  # back at the peak, or the last point when ``recovered`` is False
    recovered: bool
    points: int  # points of the curve from the peak to the end
    duration_seconds: int

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Drawdown:
    max_drawdown_pct: Decimal
    max_drawdown: Decimal  # money, a positive amount
    peak: Decimal | None
    peak_at: datetime | None
    trough_at: datetime | None
    recovered_at: datetime | None
    longest: Underwater | None


def drawdown(curve: Sequence[tuple[datetime, Decimal]]) -> Drawdown:
    """The max drawdown of ``curve`` (time, equity) and its longest stretch under water."""
    deepest: tuple[Decimal, Decimal, int, int] | None = None  # pct, money, peak, trough
    recovered_at: datetime | None = None
    longest: Underwater | None = None
    peak_index = 0

    def stretch(end: int, recovered: bool) -> None:
        nonlocal longest
        start_at, end_at = curve[peak_index][0], curve[end][0]
        if longest is None or end_at - start_at > longest.duration:
            longest = Underwater(
                start=start_at,
                end=end_at,
                recovered=recovered,
                points=end - peak_index + 1,
                duration_seconds=int((end_at - start_at).total_seconds()),
            )

    underwater = False
    for index, (at, equity) in enumerate(curve):
        peak = curve[peak_index][1]
        if equity >= peak:
            if underwater:
                stretch(index, recovered=True)
                if deepest is not None and deepest[2] == peak_index:
                    recovered_at = at
            underwater, peak_index = False, index
            continue
        underwater = True
        pct = HUNDRED * (peak - equity) / peak
        if deepest is None or pct > deepest[0]:
            deepest, recovered_at = (pct, peak - equity, peak_index, index), None
    if underwater:
        stretch(len(curve) - 1, recovered=False)
    if deepest is None:
        return Drawdown(
            max_drawdown_pct=ZERO,
            max_drawdown=ZERO,
            peak=None,
            peak_at=None,
            trough_at=None,
            recovered_at=None,
            longest=longest,
        )
    pct, fall, peak_at, trough_at = deepest
    return Drawdown(
        max_drawdown_pct=_round(pct, _RATIO),
        max_drawdown=fall,
        peak=curve[peak_at][1],
        peak_at=curve[peak_at][0],
        trough_at=curve[trough_at][0],
        recovered_at=recovered_at,
        longest=longest,
    )
