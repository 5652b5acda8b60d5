"""The portfolio's trading state (SPEC section 11): ACTIVE, REDUCING or HALTED, and the one rule
that halts it.

Equity here is marked equity: starting equity plus the realized P&L of every campaign plus the
unrealized P&L of the open positions at their last prices. Two limits, both off unless the
policy sets them, halt trading when reached (``>=``, like the heat limit):

- ``max_daily_loss_pct``: the market day's loss, % of the day's opening equity. The market day
  is the UTC date of the market time that moved equity (the signal's ``generated_at``, the
  bar's ``as_of``, the fill's time), never a server's clock, so a past year replayed gives the
  same halts. The day's opening equity is the equity last assessed before the first change of
  that day (the close of the previous one).
- ``max_drawdown_pct``: how far equity has fallen below its peak, % of the peak.

Whatever the policy, equity at or below zero halts: no percentage of it means anything, and
no entry can be sized on it. A halt holds until an operator lifts it; an operator's return to
ACTIVE takes the equity of that moment as the new peak and the day's new opening, so the
limits count the losses after the operator accepted those before (otherwise the next change
would halt again at once). REDUCING is only ever set by an operator.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date
from typing import Literal

from campaign_engine.domain.events import TradingStateChanged
from campaign_engine.domain.money import ZERO, difference, percent_of
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import MoneyValue, UtcDatetime
from campaign_engine.domain.vocabulary import TradingState


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingRecord:
    """What the rule remembers between two assessments."""

    state: TradingState = TradingState.ACTIVE
    reason: str | None = None
    equity_peak: MoneyValue | None = None
    market_day: date | None = None
    day_open_equity: MoneyValue | None = None
    last_equity: MoneyValue | None = None  # the equity at the last assessment


def market_day(market_time: UtcDatetime) -> date:
    """The market day of a market time: its UTC date."""
    return market_time.astimezone(UTC).date()


def needs_assessment(policy: Policy, equity: MoneyValue | None) -> bool:
    """Whether a change of equity must be assessed at all: a limit is set, or equity is at or
    below zero (``None``: not known yet). With neither, nothing can halt."""
    return policy.limits_trading or (equity is not None and equity <= ZERO)


def assess(
    record: TradingRecord, equity: MoneyValue, market_time: UtcDatetime, policy: Policy
) -> tuple[TradingRecord, TradingStateChanged | None]:
    """The record once equity is ``equity`` at ``market_time``, and the change of state this
    causes (None if none). A market time of an earlier day than the record's (campaigns'
    clocks interleave) counts in the record's day."""
    day = market_day(market_time)
    if record.market_day is None or day > record.market_day:
        opening = record.last_equity if record.last_equity is not None else equity
        record = replace(record, market_day=day, day_open_equity=opening)
    peak = equity if record.equity_peak is None else max(record.equity_peak, equity)
    record = replace(record, equity_peak=MoneyValue(peak), last_equity=equity)
    if record.state is TradingState.HALTED:
        return record, None
    reason = _breach(record, equity, policy)
    if reason is None:
        return record, None
    return _changed(record, TradingState.HALTED, reason, equity, by="limit")


def set_by_operator(
    record: TradingRecord, state: TradingState, reason: str, equity: MoneyValue
) -> tuple[TradingRecord, TradingStateChanged | None]:
    """An operator's command. Returning to ACTIVE re-bases the peak and the day's opening
    equity at ``equity``. Setting the state it is in changes nothing."""
    if state is record.state:
        return record, None
    if state is TradingState.ACTIVE:
        record = replace(record, equity_peak=equity, day_open_equity=equity, last_equity=equity)
    return _changed(record, state, reason, equity, by="operator")


def entry_refusal(state: TradingState, reason: str | None, equity: MoneyValue) -> str | None:
    """Why the portfolio refuses a new entry now (``TRADING_HALTED``), or None if it takes
    it. Equity at or below zero refuses whatever the recorded state."""
    if equity <= ZERO:
        return f"trading halted: equity {equity} is at or below zero"
    if state.takes_entries:
        return None
    because = f": {reason}" if reason else ""
    return f"trading is {state.value}, new entries are refused{because}"


def _breach(record: TradingRecord, equity: MoneyValue, policy: Policy) -> str | None:
    if equity <= ZERO:
        return f"equity {equity} is at or below zero"
    opening, limit = record.day_open_equity, policy.max_daily_loss_pct
    if limit is not None and opening is not None and opening > ZERO:
        loss = percent_of(part=difference(high=opening, low=equity), whole=opening)
        if loss >= limit:
            return (
                f"daily loss {loss:.4f}% of the day's opening equity {opening} "
                f"reached the {limit}% limit"
            )
    peak, limit = record.equity_peak, policy.max_drawdown_pct
    if limit is not None and peak is not None and peak > ZERO:
        drawdown = percent_of(part=difference(high=peak, low=equity), whole=peak)
        if drawdown >= limit:
            return (
                f"drawdown {drawdown:.4f}% from the equity peak {peak} reached the {limit}% limit"
            )
    return None


def _changed(
    record: TradingRecord,
    state: TradingState,
    reason: str,
    equity: MoneyValue,
    *,
    by: Literal["limit", "operator"],
) -> tuple[TradingRecord, TradingStateChanged]:
    change = TradingStateChanged(
        previous=record.state, state=state, reason=reason, equity=equity, by=by
    )
    return replace(record, state=state, reason=reason), change
