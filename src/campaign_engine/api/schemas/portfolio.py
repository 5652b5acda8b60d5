"""The portfolio's equity, heat and risk, and the service's health."""

from typing import Literal

from pydantic import BaseModel, Field

from campaign_engine.api.schemas.encoding import FROM_ATTRIBUTES, DecimalStr
from campaign_engine.db.portfolio_snapshot import CampaignRisk, GroupRisk, PortfolioSnapshot
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import HeatAlertLevel, Pattern


class CampaignRiskOut(BaseModel):
    model_config = FROM_ATTRIBUTES

    campaign_id: str
    symbol: str
    correlation_group: str
    open_risk: DecimalStr
    reserved_risk: DecimalStr
    total_risk: DecimalStr
    risk_pct: DecimalStr


class GroupRiskOut(BaseModel):
    model_config = FROM_ATTRIBUTES

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


class PolicyOut(BaseModel):
    """The policy in force (SPEC section 2): what decides new campaigns' entries. A campaign
    keeps the policy it started with; each decision names its policy by ``policy_id``."""

    model_config = FROM_ATTRIBUTES

    policy_id: str = Field(description="what allocation plans record as their policy_id")
    campaign_max_risk_pct: DecimalStr
    per_trade_max_risk_pct: DecimalStr
    portfolio_max_heat_pct: DecimalStr
    heat_warning_pct: DecimalStr
    heat_critical_pct: DecimalStr
    correlated_max_risk_pct: DecimalStr
    correlation_groups: dict[str, str] = Field(
        description="symbol -> correlation group; a symbol not listed is its own group"
    )
    bmad_weights: dict[Pattern, DecimalStr]
    pattern_risk_pct: dict[Pattern, DecimalStr]
    range_width_adaptation: bool
    wide_range_min_width_pct: DecimalStr
    narrow_range_max_width_pct: DecimalStr
    wide_range_weights: dict[Pattern, DecimalStr]
    narrow_range_weights: dict[Pattern, DecimalStr]
    min_confidence: DecimalStr
    lps_sole_min_confidence: DecimalStr
    exit_fractions: list[DecimalStr]
    quantity_step: DecimalStr
    starting_equity: DecimalStr
    entry_order_ttl_bars: int = Field(
        description="bars of the signal's timeframe an entry order rests before its unfilled "
        "rest is cancelled"
    )
    bad_print_band_pct: DecimalStr = Field(
        description="a price further than this (% of its symbol's last accepted price) is "
        "held until the next update confirms or refutes it; 0: off"
    )

    @classmethod
    def of(cls, policy: Policy) -> "PolicyOut":
        return cls.model_validate(policy)


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    temporal: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])
