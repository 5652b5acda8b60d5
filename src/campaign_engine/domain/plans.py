"""AllocationPlan: the record of one entry decision, approved or not (SPEC section 3)."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from campaign_engine.domain.types import (
    Money,
    Percent,
    PercentValue,
    Quantity,
    Symbol,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import Pattern, RejectionCode


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationPlan:
    campaign_id: str
    signal_id: UUID
    symbol: Symbol
    pattern: Pattern
    weight: Decimal | None
    target_risk_pct: Percent | None
    requested_risk_pct: Percent | None
    approved_risk_pct: Percent | None
    actual_risk_pct: Percent
    shares: Quantity
    risk_amount: Money
    remaining_budget_pct: PercentValue
    heat_after_pct: PercentValue | None  # None when refused before the portfolio was asked
    priority_score: Decimal
    is_rebalanced: bool
    rebalance_reason: str | None
    approved: bool
    rejection_code: RejectionCode | None
    rejection_reason: str | None
    decided_at: UtcDatetime
    policy_id: str | None = None  # Policy.policy_id of the policy that decided; None before
