"""What the REST API and the CLI read: campaigns, their positions, decisions and events, and the
portfolio, from the PostgreSQL read model the workflows write. Nothing here writes.

Figures that depend on equity (current risk, heat) use the portfolio's equity, starting equity
plus realized P&L, as the entry decisions do (SPEC section 3 rule 10)."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, overload
from uuid import UUID

from pydantic import JsonValue
from sqlalchemy import Select, func, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.repository import PortfolioNotInitialised
from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaigns,
    portfolio,
    positions,
)
from campaign_engine.domain.limits import Exposure, PortfolioView, heat_alert_level
from campaign_engine.domain.money import ZERO, risk_percent_of
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    HeatAlertLevel,
    Pattern,
    PositionStatus,
    RejectionCode,
)

MAX_PAGE = 100


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
    total_allocation: Decimal
    open_risk: Decimal
    reserved_risk: Decimal
    current_risk: Decimal  # open risk as a percentage of equity (SPEC section 6)
    realized_pnl: Decimal
    creek: Decimal
    ice: Decimal
    jump: Decimal
    spring_low: Decimal | None
    last_price: Decimal | None
    last_price_at: datetime | None
    invalidation_reason: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @property
    def is_final(self) -> bool:
        """Terminal with every position closed: nothing will change it any more."""
        return self.status.is_terminal and self.closed_at is not None

    @classmethod
    def from_row(cls, row: Row[Any], equity: Decimal) -> "CampaignRecord":
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
            open_risk=row.open_risk,
            reserved_risk=row.reserved_risk,
            current_risk=risk_percent_of(row.open_risk, equity),
            realized_pnl=row.realized_pnl,
            creek=row.creek,
            ice=row.ice,
            jump=row.jump,
            spring_low=row.spring_low,
            last_price=row.last_price,
            last_price_at=_utc_or_none(row.last_price_at),
            invalidation_reason=row.invalidation_reason,
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
            closed_at=_utc_or_none(row.closed_at),
        )

    @classmethod
    def from_state(cls, state: CampaignState, equity: Decimal) -> "CampaignRecord":
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
            open_risk=state.open_risk,
            reserved_risk=state.reserved_risk,
            current_risk=risk_percent_of(state.open_risk, equity),
            realized_pnl=state.realized_pnl,
            creek=rng.creek,
            ice=rng.ice,
            jump=rng.jump,
            spring_low=rng.spring_low,
            last_price=state.last_price,
            last_price_at=state.last_price_at,
            invalidation_reason=state.invalidation_reason,
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
    equity: Decimal


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


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRisk:
    campaign_id: str
    symbol: str
    correlation_group: str
    open_risk: Decimal
    reserved_risk: Decimal
    total_risk: Decimal
    risk_pct: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRisk:
    correlation_group: str
    symbols: tuple[str, ...]  # the group's symbols that carry risk now
    open_risk: Decimal
    reserved_risk: Decimal
    total_risk: Decimal
    risk_pct: Decimal
    limit_pct: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioSnapshot:
    """Heat (SPEC section 3 rule 9): open risk at current stops plus the risk reserved for
    approved, unfilled entries, over equity."""

    starting_equity: Decimal
    realized_pnl: Decimal
    equity: Decimal
    open_risk: Decimal
    reserved_risk: Decimal
    total_risk: Decimal
    heat_pct: Decimal
    max_heat_pct: Decimal
    alert_level: HeatAlertLevel
    by_campaign: tuple[CampaignRisk, ...]
    by_group: tuple[GroupRisk, ...]


def _position(row: Row[Any]) -> Position:
    return Position(
        id=row.id,
        campaign_id=row.campaign_id,
        signal_id=row.signal_id,
        pattern=Pattern(row.pattern),
        symbol=row.symbol,
        entry_price=row.entry_price,
        initial_stop=row.initial_stop,
        stop=row.stop,
        targets=tuple(Decimal(t) for t in row.targets),
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
    )


def _plan(row: Row[Any]) -> AllocationPlan:
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
    )


def _event(row: Row[Any]) -> EventRecord:
    return EventRecord(
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


class ReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def equity(self) -> Decimal:
        async with self.engine.connect() as conn:
            return (await self._equity(conn))[2]

    @staticmethod
    async def _equity(conn: AsyncConnection) -> tuple[Decimal, Decimal, Decimal]:
        """(starting equity, realized P&L of every campaign, equity)."""
        realized = select(func.coalesce(func.sum(campaign_exposure.c.realized_pnl), ZERO))
        row = (
            await conn.execute(
                select(portfolio.c.starting_equity, realized.scalar_subquery()).where(
                    portfolio.c.id == 1
                )
            )
        ).first()
        if row is None:
            raise PortfolioNotInitialised("no portfolio row: run the migrations first")
        starting, pnl = Decimal(row[0]), Decimal(row[1])
        return starting, pnl, starting + pnl

    # --- campaigns ----------------------------------------------------------------------

    async def list_campaigns(
        self,
        *,
        status: CampaignStatus | None = None,
        symbol: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> CampaignPage:
        """Campaigns newest first, filtered by status and symbol (upper-cased)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must not be negative, got {offset}")
        conditions = []
        if status is not None:
            conditions.append(campaigns.c.status == status.value)
        if symbol is not None:
            conditions.append(campaigns.c.symbol == symbol.strip().upper())
        page: Select[Any] = (
            select(campaigns)
            .where(*conditions)
            .order_by(campaigns.c.created_at.desc(), campaigns.c.campaign_id)
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(campaigns).where(*conditions)
        async with self.engine.connect() as conn:
            equity = (await self._equity(conn))[2]
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        return CampaignPage(
            [CampaignRecord.from_row(r, equity) for r in rows],
            total_count=int(total),
            limit=limit,
            offset=offset,
        )

    async def campaign(self, campaign_id: str) -> CampaignRecord | None:
        found = await self.campaign_with_positions(campaign_id)
        return None if found is None else found.campaign

    async def campaign_with_positions(self, campaign_id: str) -> CampaignWithPositions | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
            ).first()
            if row is None:
                return None
            equity = (await self._equity(conn))[2]
            held = (
                await conn.execute(
                    select(positions)
                    .where(positions.c.campaign_id == campaign_id)
                    .order_by(positions.c.approved_at, positions.c.id)
                )
            ).all()
        return CampaignWithPositions(
            campaign=CampaignRecord.from_row(row, equity),
            positions=tuple(_position(p) for p in held),
            equity=equity,
        )

    async def allocations(self, campaign_id: str) -> tuple[AllocationPlan, ...]:
        """Every decision for the campaign id, approved or not, in the order it was made."""
        query = (
            select(allocation_plans)
            .where(allocation_plans.c.campaign_id == campaign_id)
            .order_by(allocation_plans.c.seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(_plan(r) for r in rows)

    async def events(self, campaign_id: str) -> tuple[EventRecord, ...]:
        """The campaign's audit trail, oldest first."""
        query = (
            select(audit_trail)
            .where(audit_trail.c.campaign_id == campaign_id)
            .order_by(audit_trail.c.seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(_event(r) for r in rows)

    # --- the portfolio ------------------------------------------------------------------

    async def portfolio(self, policy: Policy) -> PortfolioSnapshot:
        """Equity, heat and where the risk sits, by campaign and by correlation group of
        ``policy`` (the one the campaigns are decided with)."""
        query = (
            select(
                campaign_exposure.c.campaign_id,
                campaign_exposure.c.symbol,
                campaign_exposure.c.open_risk,
                campaign_exposure.c.reserved_risk,
            )
            .where(campaign_exposure.c.open_risk + campaign_exposure.c.reserved_risk > 0)
            .order_by(campaign_exposure.c.campaign_id)
        )
        async with self.engine.connect() as conn:
            starting, realized, equity = await self._equity(conn)
            rows = (await conn.execute(query)).all()
        # The view entry decisions are checked against: heat and group risk are its figures.
        view = PortfolioView.of(
            equity,
            (
                Exposure(
                    campaign_id=r.campaign_id,
                    symbol=r.symbol,
                    open_risk=r.open_risk,
                    reserved_risk=r.reserved_risk,
                )
                for r in rows
            ),
        )
        by_campaign = tuple(
            CampaignRisk(
                campaign_id=e.campaign_id,
                symbol=e.symbol,
                correlation_group=policy.correlation_group(e.symbol),
                open_risk=e.open_risk,
                reserved_risk=e.reserved_risk,
                total_risk=e.total,
                risk_pct=risk_percent_of(e.total, equity),
            )
            for e in view.exposures
        )
        open_risk = sum((e.open_risk for e in view.exposures), ZERO)
        reserved = sum((e.reserved_risk for e in view.exposures), ZERO)
        heat = view.heat_pct()
        return PortfolioSnapshot(
            starting_equity=starting,
            realized_pnl=realized,
            equity=equity,
            open_risk=open_risk,
            reserved_risk=reserved,
            total_risk=open_risk + reserved,
            heat_pct=heat,
            max_heat_pct=policy.portfolio_max_heat_pct,
            alert_level=heat_alert_level(heat, policy),
            by_campaign=by_campaign,
            by_group=_by_group(view, by_campaign, policy),
        )


def _by_group(
    view: PortfolioView, by_campaign: Sequence[CampaignRisk], policy: Policy
) -> tuple[GroupRisk, ...]:
    groups: dict[str, list[CampaignRisk]] = {}
    for risk in by_campaign:
        groups.setdefault(risk.correlation_group, []).append(risk)
    result = []
    for group in sorted(groups):
        members = groups[group]
        open_risk = sum((m.open_risk for m in members), ZERO)
        reserved = sum((m.reserved_risk for m in members), ZERO)
        result.append(
            GroupRisk(
                correlation_group=group,
                symbols=tuple(sorted({m.symbol for m in members})),
                open_risk=open_risk,
                reserved_risk=reserved,
                total_risk=open_risk + reserved,
                risk_pct=view.group_risk_pct(group, policy),
                limit_pct=policy.correlated_max_risk_pct,
            )
        )
    return tuple(result)
