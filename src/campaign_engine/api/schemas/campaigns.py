"""Campaigns, their positions and metrics, and pages of them."""

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from campaign_engine.api.schemas.encoding import FROM_ATTRIBUTES, DecimalStr, UtcTime
from campaign_engine.db.campaign_listing import MarkedPage
from campaign_engine.db.records import CampaignRecord
from campaign_engine.domain.ledger import PositionsSummary, position_r_multiple
from campaign_engine.domain.marks import CampaignMark
from campaign_engine.domain.positions import Position
from campaign_engine.domain.types import PriceValue
from campaign_engine.domain.vocabulary import CampaignPhase, CampaignStatus, Pattern, PositionStatus


class CampaignOut(BaseModel):
    model_config = FROM_ATTRIBUTES

    campaign_id: str = Field(examples=["AAPL-2024-10-15"], description="symbol-range start date")
    id: UUID
    symbol: str
    timeframe: str
    trading_range_id: UUID
    status: CampaignStatus
    phase: CampaignPhase
    version: int = Field(description="grows by one with every change; PATCH must carry it")
    total_allocation: DecimalStr = Field(description="risk allocated so far, % of equity")
    current_risk: DecimalStr = Field(
        description="OPEN risk, % of equity (SPEC section 6): open_risk over equity, the "
        "Temporal search attribute CampaignOpenRiskPct; reserved risk is not counted"
    )
    open_risk: DecimalStr = Field(description="open risk at current stops, money")
    reserved_risk: DecimalStr = Field(description="risk of approved, unfilled entries, money")
    committed_risk: DecimalStr = Field(
        description="COMMITTED risk, money: open_risk + reserved_risk, what the campaign adds "
        "to the portfolio's heat"
    )
    committed_risk_pct: DecimalStr = Field(description="committed_risk, % of equity")
    realized_pnl: DecimalStr
    creek: DecimalStr
    ice: DecimalStr
    jump: DecimalStr
    spring_low: DecimalStr | None
    invalidation_reason: str | None
    quarantine_reason: str | None = Field(
        default=None,
        description="why the campaign is QUARANTINED: a change of it could not be carried out "
        "for good (entries refused, exits still run)",
    )
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
    entry_price: DecimalStr = Field(description="the planned price: the entry order's limit")
    average_entry_price: DecimalStr = Field(
        description="what the filled shares cost on average, at the broker's fill prices"
    )
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
    def of(cls, position: Position, mark: PriceValue | None) -> "PositionOut":
        return cls(
            id=position.id,
            campaign_id=position.campaign_id,
            signal_id=position.signal_id,
            pattern=position.pattern,
            symbol=position.symbol,
            status=position.status,
            entry_price=position.entry_price,
            average_entry_price=position.average_entry_price,
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
    current_risk: DecimalStr = Field(
        description="total_risk, % of equity: the campaign's current_risk (open risk)"
    )
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    total_pnl: DecimalStr
    r_multiple: DecimalStr | None = Field(description="total P&L over the risk taken at entry")
    open_positions_count: int
    closed_positions_count: int

    @classmethod
    def fields_of(cls, summary: PositionsSummary) -> dict[str, Any]:
        return {
            "total_shares": summary.total_shares,
            "weighted_avg_entry": summary.weighted_avg_entry,
            "total_risk": summary.total_risk,
            "current_risk": summary.current_risk_pct,
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
    awaiting_flat: bool = Field(
        default=False,
        description="ended (INVALIDATED) while shares it bought are still held at the broker: "
        "its exit is retried until it is flat",
    )


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


class MarkOut(BaseModel):
    """A campaign marked to market: its open shares at the newer of the price it took last and
    the newest price the API accepted for its symbol (a price that crosses no level is taken
    without a change of the campaign, so its own figures stand still until the next one)."""

    campaign_id: str
    version: int = Field(description="the campaign's version whose positions were marked")
    last_price: DecimalStr | None = Field(description="the price marked at; null: none yet")
    as_of: UtcTime | None = Field(description="that price's market time")
    unrealized_pnl: DecimalStr
    total_pnl: DecimalStr = Field(description="realized plus unrealized")
    r_multiple: DecimalStr | None = Field(description="total P&L over the risk taken at entry")

    @classmethod
    def of(cls, mark: CampaignMark) -> "MarkOut":
        return cls(
            campaign_id=mark.campaign_id,
            version=mark.version,
            last_price=mark.price,
            as_of=mark.as_of,
            unrealized_pnl=mark.unrealized_pnl,
            total_pnl=mark.total_pnl,
            r_multiple=mark.r_multiple,
        )


class CampaignRowOut(CampaignOut):
    mark: MarkOut


class CampaignListOut(BaseModel):
    data: list[CampaignRowOut]
    pagination: PaginationOut

    @classmethod
    def of(cls, page: MarkedPage) -> "CampaignListOut":
        return cls(
            data=[
                CampaignRowOut(**campaign_fields(r), mark=MarkOut.of(page.marks[r.campaign_id]))
                for r in page
            ],
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
