"""BMAD weights with rebalancing, and the risk of one entry (SPEC section 3, rules 6-7)."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from campaign_engine.domain.market import TradingRange
from campaign_engine.domain.money import ONE, ZERO, scaled
from campaign_engine.domain.policy import Policy, Weights
from campaign_engine.domain.types import PercentValue
from campaign_engine.domain.vocabulary import AFTER, BEFORE, Pattern


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    weight: Decimal
    base_weight: Decimal
    target_risk_pct: PercentValue
    base_risk_pct: PercentValue
    risk_pct: PercentValue
    is_rebalanced: bool
    rebalance_reason: str | None


def base_weights(trading_range: TradingRange, policy: Policy) -> Weights:
    """40/30/30, or the range-width variants when the policy turns adaptation on."""
    if policy.range_width_adaptation:
        width = trading_range.width_pct
        if width > policy.wide_range_min_width_pct:
            return policy.wide_range_weights
        if width < policy.narrow_range_max_width_pct:
            return policy.narrow_range_weights
    return policy.bmad_weights


def bmad_weight(pattern: Pattern, taken: Mapping[Pattern, Decimal], weights: Weights) -> Decimal:
    """w(p) = 1 - sum(w of entries taken) - sum(base weight of patterns after p).

    Budget left by skipped earlier entries flows to the next entry taken, and the weights of
    a campaign always add up to the whole budget.
    """
    return ONE - sum(taken.values(), ZERO) - sum((weights[p] for p in AFTER[pattern]), ZERO)


def allocate(
    pattern: Pattern,
    taken: Mapping[Pattern, Decimal],
    trading_range: TradingRange,
    *,
    requested_risk_pct: PercentValue | None,
    policy: Policy,
) -> Allocation:
    """Weight, target and risk % of an entry (FR16 sizing scaled by the BMAD weight, capped)."""
    weights = base_weights(trading_range, policy)
    weight = bmad_weight(pattern, taken, weights)
    base_weight = weights[pattern]
    target = scaled(policy.campaign_max_risk_pct, by=weight)
    base_risk = (
        requested_risk_pct if requested_risk_pct is not None else policy.pattern_risk_pct[pattern]
    )
    risk = min(
        scaled(base_risk, by=weight, over=base_weight), target, policy.per_trade_max_risk_pct
    )
    rebalanced = weight > base_weight
    reason = None
    if rebalanced:
        skipped = [p for p in BEFORE[pattern] if p not in taken]
        reason = (
            f"{' and '.join(p.value for p in skipped)} skipped: {pattern.value} takes weight "
            f"{weight} instead of {base_weight}"
        )
    return Allocation(
        weight=weight,
        base_weight=base_weight,
        target_risk_pct=target,
        base_risk_pct=base_risk,
        risk_pct=risk,
        is_rebalanced=rebalanced,
        rebalance_reason=reason,
    )
