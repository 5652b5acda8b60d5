"""Entry decisions (allocation plans) and the audit trail."""

from collections.abc import Sequence
from uuid import UUID

from pydantic import BaseModel, Field, JsonValue

from campaign_engine.api.schemas.encoding import FROM_ATTRIBUTES, DecimalStr, UtcTime
from campaign_engine.db.records import EventRecord
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.vocabulary import Pattern, RejectionCode


class AllocationPlanOut(BaseModel):
    """One entry decision, approved or not (SPEC section 3)."""

    model_config = FROM_ATTRIBUTES

    campaign_id: str
    signal_id: UUID
    symbol: str
    pattern: Pattern
    weight: DecimalStr | None
    target_risk_pct: DecimalStr | None
    requested_risk_pct: DecimalStr | None
    approved_risk_pct: DecimalStr | None
    actual_risk_pct: DecimalStr
    shares: DecimalStr
    risk_amount: DecimalStr
    remaining_budget_pct: DecimalStr
    heat_after_pct: DecimalStr | None
    priority_score: DecimalStr
    is_rebalanced: bool
    rebalance_reason: str | None
    approved: bool
    rejection_code: RejectionCode | None
    rejection_reason: str | None
    decided_at: UtcTime
    policy_id: str | None = Field(
        description="id of the policy that decided (GET /policy shows the one in force); "
        "null for decisions made before policies had ids"
    )

    @classmethod
    def many(cls, plans: Sequence[AllocationPlan]) -> list["AllocationPlanOut"]:
        return [cls.model_validate(p) for p in plans]


class AllocationsOut(BaseModel):
    campaign_id: str
    allocations: list[AllocationPlanOut] = Field(description="in decision order")
    total_allocated: DecimalStr = Field(description="% of equity")
    remaining_budget: DecimalStr = Field(description="% of equity left of the campaign budget")


class EventOut(BaseModel):
    model_config = FROM_ATTRIBUTES

    seq: int = Field(description="position in the audit trail")
    event_id: str
    campaign_id: str
    type: str = Field(examples=["CampaignCreated"])
    version: int
    occurred_at: UtcTime
    correlation_id: str
    data: dict[str, JsonValue]
    recorded_at: UtcTime

    @classmethod
    def many(cls, events: Sequence[EventRecord]) -> list["EventOut"]:
        return [cls.model_validate(e) for e in events]


class EventsOut(BaseModel):
    campaign_id: str
    events: list[EventOut] = Field(description="oldest first")
