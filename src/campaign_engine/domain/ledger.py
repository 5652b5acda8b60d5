"""The position ledger: campaign aggregates, P&L and R-multiples (SPEC sections 5-6)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from campaign_engine.domain.money import ZERO, percent_of, to_price_precision
from campaign_engine.domain.positions import Position
from campaign_engine.domain.vocabulary import PositionStatus

_R_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsSummary:
    """Aggregates over open positions, except P&L and R, which count closed ones too."""

    total_shares: Decimal
    weighted_avg_entry: Decimal | None
    total_risk: Decimal
    current_risk_pct: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    total_pnl: Decimal
    r_multiple: Decimal | None
    open_positions_count: int
    closed_positions_count: int


def weighted_avg_entry(positions: Iterable[Position]) -> Decimal | None:
    """sum(entry * open) / sum(open) over open positions, to 8 places; None when flat."""
    held = [(p.entry_price, p.open_shares) for p in positions if p.open_shares > ZERO]
    shares = sum((s for _, s in held), ZERO)
    if shares == ZERO:
        return None
    return to_price_precision(sum((e * s for e, s in held), ZERO) / shares)


def r_multiple(pnl: Decimal, initial_risk: Decimal) -> Decimal | None:
    """P&L in units of the risk taken at entry (None when nothing was risked)."""
    if initial_risk <= ZERO:
        return None
    return (pnl / initial_risk).quantize(_R_PLACES, rounding=ROUND_HALF_EVEN)


def position_r_multiple(position: Position, mark: Decimal | None) -> Decimal | None:
    pnl = position.realized_pnl + position.unrealized_pnl(mark)
    return r_multiple(pnl, position.initial_risk)


def summarize(
    positions: Iterable[Position], mark: Decimal | None, equity: Decimal
) -> PositionsSummary:
    filled = [p for p in positions if p.status is not PositionStatus.PENDING or p.shares > ZERO]
    open_ = [p for p in filled if p.open_shares > ZERO]
    total_risk = sum((p.open_risk for p in open_), ZERO)
    realized = sum((p.realized_pnl for p in filled), ZERO)
    unrealized = sum((p.unrealized_pnl(mark) for p in open_), ZERO)
    return PositionsSummary(
        total_shares=sum((p.open_shares for p in open_), ZERO),
        weighted_avg_entry=weighted_avg_entry(open_),
        total_risk=total_risk,
        current_risk_pct=percent_of(total_risk, equity),
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        total_pnl=realized + unrealized,
        r_multiple=r_multiple(realized + unrealized, sum((p.initial_risk for p in filled), ZERO)),
        open_positions_count=len(open_),
        closed_positions_count=sum(1 for p in filled if p.status is PositionStatus.CLOSED),
    )
