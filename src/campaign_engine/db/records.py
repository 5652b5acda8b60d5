"""What the read model answers with: campaigns (from their rows or a live workflow's state),
pages of them, positions, decisions and audit-trail events, each in UTC."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, overload
from uuid import UUID

from pydantic import JsonValue
from sqlalchemy.engine import Row

from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.positions import Position
from campaign_engine.domain.risk import RiskFigures
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue, PercentValue, PriceValue
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    Pattern,
    PositionStatus,
    RejectionCode,
)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRecord:
    """One campaign as the read model (or its live workflow) shows it."""

    id: UUID
    campaign_id: str
    symbol: str
    timeframe: str
    trading_range_id: UUID
    status: CampaignStatus
    phase: CampaignPhase
    version: int
    total_allocation: PercentValue
    risk: RiskFigures
    realized_pnl: MoneyValue
    creek: PriceValue
    ice: PriceValue
    jump: PriceValue
    spring_low: PriceValue | None
    last_price: PriceValue | None
    last_price_at: datetime | None
    invalidation_reason: str | None
    quarantine_reason: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    # The risk figures, each as the domain defines it (domain.risk), read as fields.
    @property
    def open_risk(self) -> MoneyValue:
        return self.risk.open_risk

    @property
    def reserved_risk(self) -> MoneyValue:
        return self.risk.reserved_risk

    @property
    def current_risk(self) -> PercentValue:
        """Open risk as a percentage of equity (SPEC section 6), reservations left out."""
        return self.risk.open_risk_pct

    @property
    def committed_risk(self) -> MoneyValue:
        return self.risk.committed_risk

    @property
    def committed_risk_pct(self) -> PercentValue:
        return self.risk.committed_risk_pct

    @property
    def is_final(self) -> bool:
        """Terminal with every position closed: nothing will change it any more."""
        return self.status.is_terminal and self.closed_at is not None

    @classmethod
    def from_row(cls, row: Row[Any], equity: MoneyValue) -> "CampaignRecord":
        return cls(
            id=row.id,
            campaign_id=row.campaign_id,
            symbol=row.symbol,
            timeframe=row.timeframe,
            trading_range_id=row.trading_range_id,
            status=CampaignStatus(row.status),
            phase=CampaignPhase(row.phase),
            version=row.version,
            total_allocation=row.total_allocation,
            risk=RiskFigures(
                open_risk=row.open_risk, reserved_risk=row.reserved_risk, equity=equity
            ),
            realized_pnl=row.realized_pnl,
            creek=row.creek,
            ice=row.ice,
            jump=row.jump,
            spring_low=row.spring_low,
            last_price=row.last_price,
            last_price_at=_utc_or_none(row.last_price_at),
            invalidation_reason=row.invalidation_reason,
            quarantine_reason=row.quarantine_reason,
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
            closed_at=_utc_or_none(row.closed_at),
        )

    @classmethod
    def from_state(cls, state: CampaignState, equity: MoneyValue) -> "CampaignRecord":
        """The same view of a live workflow's state; ``state`` must be a campaign (exists)."""
        if state.created_at is None:
            raise ValueError(f"{state.campaign_id} is not a campaign yet (no approved entry)")
        rng = state.trading_range
        return cls(
            id=state.id,
            campaign_id=state.campaign_id,
            symbol=state.symbol,
            timeframe=state.timeframe,
            trading_range_id=rng.id,
            status=state.status,
            phase=state.phase,
            version=state.version,
            total_allocation=state.total_allocation,
            risk=RiskFigures.of(state.positions, equity),
            realized_pnl=state.realized_pnl,
            creek=rng.creek,
            ice=rng.ice,
            jump=rng.jump,
            spring_low=rng.spring_low,
            last_price=state.last_price,
            last_price_at=state.last_price_at,
            invalidation_reason=state.invalidation_reason,
            quarantine_reason=state.quarantine_reason,
            created_at=state.created_at,
            updated_at=state.updated_at or state.created_at,
            closed_at=state.closed_at,
        )


class CampaignPage(Sequence[CampaignRecord]):
    """One page of campaigns, and how many match in all. It is the sequence of its items."""

    __slots__ = ("items", "limit", "offset", "total_count")

    def __init__(
        self, items: Sequence[CampaignRecord], *, total_count: int, limit: int, offset: int
    ) -> None:
        self.items = tuple(items)
        self.total_count = total_count
        self.limit = limit
        self.offset = offset

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total_count

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[CampaignRecord]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> CampaignRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CampaignRecord]: ...
    def __getitem__(self, index: int | slice) -> CampaignRecord | Sequence[CampaignRecord]:
        return self.items[index]

    def __repr__(self) -> str:
        return (
            f"CampaignPage({len(self.items)} of {self.total_count}, "
            f"limit={self.limit}, offset={self.offset})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignWithPositions:
    campaign: CampaignRecord
    positions: tuple[Position, ...]
    equity: MoneyValue


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """One entry of the audit trail; ``seq`` gives the order it was recorded in."""

    seq: int
    event_id: str
    campaign_id: str
    type: str
    version: int
    occurred_at: datetime
    correlation_id: str
    data: dict[str, JsonValue]
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> "EventRecord":
        return cls(
            seq=row.seq,
            event_id=row.event_id,
            campaign_id=row.campaign_id,
            type=row.event_type,
            version=row.version,
            occurred_at=_utc(row.occurred_at),
            correlation_id=row.correlation_id,
            data=row.data,
            recorded_at=_utc(row.recorded_at),
        )


def position_from_row(row: Row[Any]) -> Position:
    return Position(
        id=row.id,
        campaign_id=row.campaign_id,
        signal_id=row.signal_id,
        pattern=Pattern(row.pattern),
        symbol=row.symbol,
        entry_price=row.entry_price,
        initial_stop=row.initial_stop,
        stop=row.stop,
        targets=tuple(PriceValue(Decimal(t)) for t in row.targets),
        targets_hit=row.targets_hit,
        weight=row.weight,
        risk_pct=row.risk_pct,
        planned_shares=row.planned_shares,
        shares=row.shares,
        open_shares=row.open_shares,
        status=PositionStatus(row.status),
        approved_at=_utc(row.approved_at),
        opened_at=_utc_or_none(row.opened_at),
        closed_at=_utc_or_none(row.closed_at),
        realized_pnl=row.realized_pnl,
        entry_cost=row.entry_cost,
    )


def plan_from_row(row: Row[Any]) -> AllocationPlan:
    return AllocationPlan(
        campaign_id=row.campaign_id,
        signal_id=row.signal_id,
        symbol=row.symbol,
        pattern=Pattern(row.pattern),
        weight=row.weight,
        target_risk_pct=row.target_risk_pct,
        requested_risk_pct=row.requested_risk_pct,
        approved_risk_pct=row.approved_risk_pct,
        actual_risk_pct=row.actual_risk_pct,
        shares=row.shares,
        risk_amount=row.risk_amount,
        remaining_budget_pct=row.remaining_budget_pct,
        heat_after_pct=row.heat_after_pct,
        priority_score=row.priority_score,
        is_rebalanced=row.is_rebalanced,
        rebalance_reason=row.rebalance_reason,
        approved=row.approved,
        rejection_code=RejectionCode(row.rejection_code) if row.rejection_code else None,
        rejection_reason=row.rejection_reason,
        decided_at=_utc(row.decided_at),
        policy_id=row.policy_id,
    )
