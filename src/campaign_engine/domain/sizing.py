"""Position size from risk (FR16, SPEC section 3 rule 10)."""

from dataclasses import dataclass
from decimal import Decimal

from campaign_engine.domain.money import HUNDRED, floor_to_step, risk_percent_of


@dataclass(frozen=True, slots=True)
class Size:
    shares: Decimal
    risk_amount: Decimal
    risk_pct: Decimal


def size_position(
    equity: Decimal, risk_pct: Decimal, entry: Decimal, stop: Decimal, step: Decimal
) -> Size:
    """shares = floor_to_step(equity * risk% / 100 / (entry - stop)); the risk actually taken
    is what those shares lose at the stop, never more than was allowed."""
    if entry <= stop:
        raise ValueError(f"entry {entry} must be above stop {stop}")
    shares = floor_to_step(equity * risk_pct / (HUNDRED * (entry - stop)), step)
    risk_amount = shares * (entry - stop)
    return Size(shares, risk_amount, risk_percent_of(risk_amount, equity))
