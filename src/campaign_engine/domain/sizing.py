"""Position size from risk (FR16, SPEC section 3 rule 10)."""

from dataclasses import dataclass

from campaign_engine.domain.money import difference, shares_risking, value_of
from campaign_engine.domain.risk import percent_of_equity
from campaign_engine.domain.types import MoneyValue, PercentValue, PriceValue, QuantityValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Size:
    shares: QuantityValue
    risk_amount: MoneyValue
    risk_pct: PercentValue


def size_position(
    *,
    equity: MoneyValue,
    risk_pct: PercentValue,
    entry: PriceValue,
    stop: PriceValue,
    step: QuantityValue,
) -> Size:
    """shares = floor_to_step(equity * risk% / 100 / (entry - stop)); the risk actually taken
    is what those shares lose at the stop, never more than was allowed."""
    if entry <= stop:
        raise ValueError(f"entry {entry} must be above stop {stop}")
    per_share = difference(high=entry, low=stop)
    shares = shares_risking(percent=risk_pct, equity=equity, per_share=per_share, step=step)
    risk_amount = value_of(shares=shares, price=per_share)
    return Size(
        shares=shares,
        risk_amount=risk_amount,
        risk_pct=percent_of_equity(risk_amount, equity),
    )
