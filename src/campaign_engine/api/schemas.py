"""What the REST API answers and accepts (SPEC section 8): pydantic models, so that /docs shows
real schemas. Money, prices, shares and percentages are JSON strings, never floats; times are
UTC ISO-8601."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    JsonValue,
    PlainSerializer,
    StringConstraints,
    Tag,
    WithJsonSchema,
)

from campaign_engine.db.read_model import (
    CampaignPage,
    CampaignRecord,
    CampaignRisk,
    EventRecord,
    GroupRisk,
    PortfolioSnapshot,
)
from campaign_engine.domain.ledger import PositionsSummary, position_r_multiple
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import risk_percent_of
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.positions import Position
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    HeatAlertLevel,
    Pattern,
    PositionStatus,
    RejectionCode,
)


def decimal_text(value: Decimal) -> str:
    """A Decimal as JSON text: plain notation, no trailing fractional zeros, so the same
    amount reads the same whether it comes from the database (8 places) or a workflow:
    ``Decimal("499.50000000")`` -> ``"499.5"``, ``Decimal("1E+2")`` -> ``"100"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def utc_text(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``: ``2024-10-15T14:30:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


DecimalStr = Annotated[
    Decimal,
    PlainSerializer(decimal_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal"}),
]
UtcTime = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2024-10-15T14:30:00Z"]}),
]

_OUT = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    detail: str = Field(examples=["there is no campaign AAPL-2024-10-15"])


# --- campaigns ------------------------------------------------------------------------------


class CampaignOut(BaseModel):
    model_config = _OUT

    campaign_id: str = Field(examples=["AAPL-2024-10-15"], description="symbol-range start date")
    id: UUID
    symbol: str
    timeframe: str
    trading_range_id: UUID
    status: CampaignStatus
    phase: CampaignPhase
    version: int = Field(description="grows by one with every change; PATCH must carry it")
    total_allocation: DecimalStr = Field(description="risk allocated so far, % of equity")
    current_risk: DecimalStr = Field(description="open risk at current stops, % of equity")
    open_risk: DecimalStr = Field(description="open risk at current stops, money")
    reserved_risk: DecimalStr = Field(description="risk of approved, unfilled entries, money")
    realized_pnl: DecimalStr
    creek: DecimalStr
    ice: DecimalStr
    jump: DecimalStr
    spring_low: DecimalStr | None
    invalidation_reason: str | None
    last_price: DecimalStr | None
    last_price_at: UtcTime | None = Field(description="as_of of the last price taken")
    created_at: UtcTime
    updated_at: UtcTime
    closed_at: UtcTime | None


class PositionOut(BaseModel):
    id: UUID
    campaign_id: str
    signal_id: UUID
    pattern: Pattern
    symbol: str
    status: PositionStatus
    entry_price: DecimalStr
    initial_stop: DecimalStr
    stop: DecimalStr
    targets: list[DecimalStr]
    targets_hit: int
    weight: DecimalStr
    risk_pct: DecimalStr
    planned_shares: DecimalStr
    shares: DecimalStr = Field(description="shares the entry filled")
    open_shares: DecimalStr
    open_risk: DecimalStr
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr = Field(description="at the campaign's last price")
    r_multiple: DecimalStr | None
    approved_at: UtcTime
    opened_at: UtcTime | None
    closed_at: UtcTime | None

    @classmethod
    def of(cls, position: Position, mark: Decimal | None) -> "PositionOut":
        return cls(
            id=position.id,
            campaign_id=position.campaign_id,
            signal_id=position.signal_id,
            pattern=position.pattern,
            symbol=position.symbol,
            status=position.status,
            entry_price=position.entry_price,
            initial_stop=position.initial_stop,
            stop=position.stop,
            targets=list(position.targets),
            targets_hit=position.targets_hit,
            weight=position.weight,
            risk_pct=position.risk_pct,
            planned_shares=position.planned_shares,
            shares=position.shares,
            open_shares=position.open_shares,
            open_risk=position.open_risk,
            realized_pnl=position.realized_pnl,
            unrealized_pnl=position.unrealized_pnl(mark),
            r_multiple=position_r_multiple(position, mark),
            approved_at=position.approved_at,
            opened_at=position.opened_at,
            closed_at=position.closed_at,
        )


class MetricsOut(BaseModel):
    """SPEC section 6: over open positions, except P&L, R and the closed count."""

    total_shares: DecimalStr
    weighted_avg_entry: DecimalStr | None = Field(description="null when no share is open")
    total_risk: DecimalStr = Field(description="open risk at current stops, money")
    current_risk: DecimalStr = Field(description="total_risk, % of equity")
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    total_pnl: DecimalStr
    r_multiple: DecimalStr | None = Field(description="total P&L over the risk taken at entry")
    open_positions_count: int
    closed_positions_count: int

    @classmethod
    def fields_of(cls, summary: PositionsSummary, equity: Decimal) -> dict[str, Any]:
        return {
            "total_shares": summary.total_shares,
            "weighted_avg_entry": summary.weighted_avg_entry,
            "total_risk": summary.total_risk,
            "current_risk": risk_percent_of(summary.total_risk, equity),
            "realized_pnl": summary.realized_pnl,
            "unrealized_pnl": summary.unrealized_pnl,
            "total_pnl": summary.total_pnl,
            "r_multiple": summary.r_multiple,
            "open_positions_count": summary.open_positions_count,
            "closed_positions_count": summary.closed_positions_count,
        }


Source = Literal["workflow", "read_model"]


class CampaignDetailOut(CampaignOut):
    source: Source = Field(
        description="where the state was read: the live workflow when it was fresher than the "
        "read model, else the read model"
    )
    positions: list[PositionOut]
    metrics: MetricsOut


class PositionsOut(MetricsOut):
    campaign_id: str
    source: Source
    positions: list[PositionOut]


class PaginationOut(BaseModel):
    returned_count: int
    total_count: int
    limit: int
    offset: int
    has_more: bool


class CampaignListOut(BaseModel):
    data: list[CampaignOut]
    pagination: PaginationOut

    @classmethod
    def of(cls, page: CampaignPage) -> "CampaignListOut":
        return cls(
            data=[CampaignOut.model_validate(r) for r in page],
            pagination=PaginationOut(
                returned_count=len(page),
                total_count=page.total_count,
                limit=page.limit,
                offset=page.offset,
                has_more=page.has_more,
            ),
        )


def campaign_fields(record: CampaignRecord) -> dict[str, Any]:
    """The campaign's own fields, to build the views that extend CampaignOut."""
    return {name: getattr(record, name) for name in CampaignOut.model_fields}


# --- decisions and events -------------------------------------------------------------------


class AllocationPlanOut(BaseModel):
    """One entry decision, approved or not (SPEC section 3)."""

    model_config = _OUT

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

    @classmethod
    def many(cls, plans: Sequence[AllocationPlan]) -> list["AllocationPlanOut"]:
        return [cls.model_validate(p) for p in plans]


class AllocationsOut(BaseModel):
    campaign_id: str
    allocations: list[AllocationPlanOut] = Field(description="in decision order")
    total_allocated: DecimalStr = Field(description="% of equity")
    remaining_budget: DecimalStr = Field(description="% of equity left of the campaign budget")


class EventOut(BaseModel):
    model_config = _OUT

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


# --- the portfolio ---------------------------------------------------------------------------


class CampaignRiskOut(BaseModel):
    model_config = _OUT

    campaign_id: str
    symbol: str
    correlation_group: str
    open_risk: DecimalStr
    reserved_risk: DecimalStr
    total_risk: DecimalStr
    risk_pct: DecimalStr


class GroupRiskOut(BaseModel):
    model_config = _OUT

    correlation_group: str
    symbols: list[str]
    open_risk: DecimalStr
    reserved_risk: DecimalStr
    total_risk: DecimalStr
    risk_pct: DecimalStr
    limit_pct: DecimalStr


class PortfolioOut(BaseModel):
    starting_equity: DecimalStr
    realized_pnl: DecimalStr
    equity: DecimalStr = Field(description="starting equity + realized P&L")
    open_risk: DecimalStr = Field(description="risk at current stops of every open position")
    reserved_risk: DecimalStr = Field(description="risk reserved for unfilled entries")
    total_risk: DecimalStr
    heat_pct: DecimalStr = Field(description="total risk, % of equity")
    max_heat_pct: DecimalStr
    alert_level: HeatAlertLevel
    open_risk_by_campaign: list[CampaignRiskOut]
    open_risk_by_group: list[GroupRiskOut]

    @classmethod
    def of(cls, snapshot: PortfolioSnapshot) -> "PortfolioOut":
        return cls(
            starting_equity=snapshot.starting_equity,
            realized_pnl=snapshot.realized_pnl,
            equity=snapshot.equity,
            open_risk=snapshot.open_risk,
            reserved_risk=snapshot.reserved_risk,
            total_risk=snapshot.total_risk,
            heat_pct=snapshot.heat_pct,
            max_heat_pct=snapshot.max_heat_pct,
            alert_level=snapshot.alert_level,
            open_risk_by_campaign=[_risk(c) for c in snapshot.by_campaign],
            open_risk_by_group=[_group(g) for g in snapshot.by_group],
        )


def _risk(risk: CampaignRisk) -> CampaignRiskOut:
    return CampaignRiskOut.model_validate(risk)


def _group(group: GroupRisk) -> GroupRiskOut:
    return GroupRiskOut(
        correlation_group=group.correlation_group,
        symbols=list(group.symbols),
        open_risk=group.open_risk,
        reserved_risk=group.reserved_risk,
        total_risk=group.total_risk,
        risk_pct=group.risk_pct,
        limit_pct=group.limit_pct,
    )


# --- requests ---------------------------------------------------------------------------------

_IN = ConfigDict(extra="forbid")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


StatusName = Annotated[CampaignStatus, BeforeValidator(_upper)]
"""A campaign status, case-insensitive (``active`` is ACTIVE)."""


class StatusChangeIn(BaseModel):
    """An operator's status change at the campaign's current version."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "MARKUP", "version": 2}]}
    )

    status: StatusName
    version: int = Field(ge=1, description="the campaign's current version")


class InvalidateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "range broken"}]}
    )

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


# One update or an array: the shape picks the branch, so an error names only the fields of
# the shape that was sent. The tags appear in error locations; the error handler drops them.
ONE_PRICE = "__one__"
MANY_PRICES = "__many__"
BRANCH_TAGS = frozenset({ONE_PRICE, MANY_PRICES})


def _price_shape(value: Any) -> str:
    return MANY_PRICES if isinstance(value, list) else ONE_PRICE


PricesIn = Annotated[
    Annotated[PriceUpdate, Tag(ONE_PRICE)]
    | Annotated[list[PriceUpdate], Field(max_length=10_000), Tag(MANY_PRICES)],
    Discriminator(_price_shape),
]


class PricesAcceptedOut(BaseModel):
    accepted: int = Field(description="updates taken for publishing to the open campaigns")


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    temporal: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])
