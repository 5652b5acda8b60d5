"""The book over time: its equity (realized, and marked at the prices the campaigns last took),
its risk and heat after each change, and its realized P&L by market day, folded from how much
each change moved them (each campaign's save, in market time: ``db.book_history``)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from campaign_engine.domain.money import NO_MONEY, ZERO, plus
from campaign_engine.domain.risk import committed_risk, percent_of_equity
from campaign_engine.domain.types import MoneyValue, PercentValue


@dataclass(frozen=True, slots=True, kw_only=True)
class BookChange:
    """What the saves at one moment of market time moved, summed over the campaigns."""

    at: datetime
    realized_pnl: MoneyValue
    unrealized_pnl: MoneyValue
    open_risk: MoneyValue
    reserved_risk: MoneyValue


@dataclass(frozen=True, slots=True, kw_only=True)
class BookPoint:
    at: datetime
    equity: MoneyValue  # starting equity plus realized P&L: what risk is measured against
    marked_equity: MoneyValue  # plus the unrealized P&L at the prices last taken
    realized_pnl: MoneyValue
    open_risk: MoneyValue
    committed_risk: MoneyValue
    heat_pct: PercentValue | None  # None: equity at or below zero (unbounded)


def book_points(starting_equity: MoneyValue, changes: Iterable[BookChange]) -> list[BookPoint]:
    """The book after each change, in the order given (market time)."""
    realized = unrealized = open_risk = reserved = NO_MONEY
    points = []
    for change in changes:
        realized = plus(realized, change.realized_pnl)
        unrealized = plus(unrealized, change.unrealized_pnl)
        open_risk = plus(open_risk, change.open_risk)
        reserved = plus(reserved, change.reserved_risk)
        equity = plus(starting_equity, realized)
        committed = committed_risk(open_risk=open_risk, reserved_risk=reserved)
        points.append(
            BookPoint(
                at=change.at,
                equity=equity,
                marked_equity=plus(equity, unrealized),
                realized_pnl=realized,
                open_risk=open_risk,
                committed_risk=committed,
                heat_pct=percent_of_equity(committed, equity) if equity > ZERO else None,
            )
        )
    return points


def realized_by_day(changes: Iterable[BookChange]) -> list[tuple[date, MoneyValue]]:
    """Realized P&L per market day (the UTC date of the change), the days with any."""
    days: dict[date, MoneyValue] = {}
    for change in changes:
        if change.realized_pnl != ZERO:
            day = change.at.date()
            days[day] = plus(days.get(day, NO_MONEY), change.realized_pnl)
    return sorted(days.items())
