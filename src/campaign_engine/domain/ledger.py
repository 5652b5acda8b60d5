"""The position ledger: campaign aggregates, P&L and R-multiples (SPEC sections 5-6)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from campaign_engine.domain.money import ZERO, average_price, plus, total
from campaign_engine.domain.positions import Position
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.types import MoneyValue, PercentValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import PositionStatus

_R_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsSummary:
    """Aggregates over open positions, except P&L and R, which count closed ones too."""

    total_shares: QuantityValue
    weighted_avg_entry: PriceValue | None
    total_risk: MoneyValue  # open risk (domain.risk), money
    current_risk_pct: PercentValue  # open risk, % of equity
    realized_pnl: MoneyValue
    unrealized_pnl: MoneyValue
    total_pnl: MoneyValue
    r_multiple: Decimal | None
    open_positions_count: int
    closed_positions_count: int


def weighted_avg_entry(positions: Iterable[Position]) -> PriceValue | None:
    """sum(entry * open) / sum(open) over open positions, each entry at the average price its
    shares filled at, to 8 places; None when flat."""
    return average_price(
        (p.average_entry_price, p.open_shares) for p in positions if p.holds_shares
    )


def r_multiple(*, pnl: MoneyValue, initial_risk: MoneyValue) -> Decimal | None:
    """P&L in units of the risk taken at entry (None when nothing was risked)."""
    if initial_risk <= ZERO:
        return None
    return (pnl / initial_risk).quantize(_R_PLACES, rounding=ROUND_HALF_EVEN)


def position_r_multiple(position: Position, mark: PriceValue | None) -> Decimal | None:
    pnl = plus(position.realized_pnl, position.unrealized_pnl(mark))
    return r_multiple(pnl=pnl, initial_risk=position.initial_risk)


def summarize(
    positions: Iterable[Position], *, mark: PriceValue | None, equity: MoneyValue
) -> PositionsSummary:
    filled = [p for p in positions if p.status is not PositionStatus.PENDING or p.shares > ZERO]
    open_ = [p for p in filled if p.holds_shares]
    risk = RiskFigures.of(open_, equity)
    realized = total(p.realized_pnl for p in filled)
    unrealized = total(p.unrealized_pnl(mark) for p in open_)
    pnl = plus(realized, unrealized)
    return PositionsSummary(
        total_shares=total(p.open_shares for p in open_),
        weighted_avg_entry=weighted_avg_entry(open_),
        total_risk=risk.open_risk,
        current_risk_pct=risk.open_risk_pct,
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        total_pnl=pnl,
        r_multiple=r_multiple(pnl=pnl, initial_risk=total(p.initial_risk for p in filled)),
        open_positions_count=len(open_),
        closed_positions_count=sum(1 for p in filled if p.status is PositionStatus.CLOSED),
    )
