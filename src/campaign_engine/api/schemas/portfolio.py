"""The portfolio's equity, heat and risk, and the service's health."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from campaign_engine.api.schemas.encoding import FROM_ATTRIBUTES, DecimalStr, UtcTime
from campaign_engine.db.book_history import BookHistory
from campaign_engine.db.portfolio_snapshot import CampaignRisk, GroupRisk, PortfolioSnapshot
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.trading_state import TradingRecord
from campaign_engine.domain.vocabulary import HeatAlertLevel, Pattern, TradingState


class CampaignRiskOut(BaseModel):
    model_config = FROM_ATTRIBUTES

    campaign_id: str
    symbol: str
    correlation_group: str
    open_risk: DecimalStr
    reserved_risk: DecimalStr
    total_risk: DecimalStr = Field(
        description="committed risk: open_risk + reserved_risk (the campaign's committed_risk)"
    )
    risk_pct: DecimalStr | None = Field(
        description="total_risk, % of equity (the campaign's committed_risk_pct, not its "
        "current_risk, which leaves reservations out); null when equity <= 0"
    )


class GroupRiskOut(BaseModel):
    model_config = FROM_ATTRIBUTES

    correlation_group: str
    symbols: list[str]
    open_risk: DecimalStr
    reserved_risk: DecimalStr
    total_risk: DecimalStr
    risk_pct: DecimalStr | None = Field(description="% of equity; null when equity <= 0")
    limit_pct: DecimalStr


class TradingStateOut(BaseModel):
    """The portfolio's trading state (SPEC section 11) and what its limits measure from."""

    trading_state: TradingState = Field(
        description="ACTIVE takes entries; REDUCING and HALTED refuse them (TRADING_HALTED) "
        "while exits and operator commands still run"
    )
    trading_state_reason: str | None = Field(description="why it is in this state")
    trading_state_at: UtcTime | None = Field(description="when it last changed")
    equity_peak: DecimalStr | None = Field(description="marked equity's peak (drawdown limit)")
    market_day: date | None = Field(description="UTC date of the last assessed change")
    day_open_equity: DecimalStr | None = Field(description="that day's opening marked equity")

    @classmethod
    def of(cls, record: TradingRecord, changed_at: UtcTime | None = None) -> "TradingStateOut":
        return cls(
            trading_state=record.state,
            trading_state_reason=record.reason,
            trading_state_at=changed_at,
            equity_peak=record.equity_peak,
            market_day=record.market_day,
            day_open_equity=record.day_open_equity,
        )


class PortfolioOut(TradingStateOut):
    starting_equity: DecimalStr
    realized_pnl: DecimalStr
    equity: DecimalStr = Field(
        description="starting equity + realized P&L (entries are sized on it)"
    )
    unrealized_pnl: DecimalStr = Field(description="open positions at their last prices")
    marked_equity: DecimalStr = Field(
        description="equity + unrealized P&L (the trading state's limits measure it)"
    )
    open_risk: DecimalStr = Field(description="risk at current stops of every open position")
    reserved_risk: DecimalStr = Field(description="risk reserved for unfilled entries")
    total_risk: DecimalStr
    heat_pct: DecimalStr | None = Field(
        description="total risk, % of equity; null when equity is at or below zero (unbounded: "
        "see equity_alert)"
    )
    max_heat_pct: DecimalStr
    alert_level: HeatAlertLevel
    equity_alert: str | None = Field(description="set when equity is at or below zero")
    open_risk_by_campaign: list[CampaignRiskOut]
    open_risk_by_group: list[GroupRiskOut]

    @classmethod
    def of(cls, snapshot: PortfolioSnapshot) -> "PortfolioOut":  # type: ignore[override]
        trading = TradingStateOut.of(snapshot.trading, snapshot.trading_state_at)
        return cls(
            **trading.model_dump(),
            starting_equity=snapshot.starting_equity,
            realized_pnl=snapshot.realized_pnl,
            equity=snapshot.equity,
            unrealized_pnl=snapshot.unrealized_pnl,
            marked_equity=snapshot.marked_equity,
            open_risk=snapshot.open_risk,
            reserved_risk=snapshot.reserved_risk,
            total_risk=snapshot.total_risk,
            heat_pct=snapshot.heat_pct,
            max_heat_pct=snapshot.max_heat_pct,
            alert_level=snapshot.alert_level,
            equity_alert=snapshot.equity_alert,
            open_risk_by_campaign=[_risk(c) for c in snapshot.by_campaign],
            open_risk_by_group=[_group(g) for g in snapshot.by_group],
        )


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class TradingStateIn(BaseModel):
    """An operator's command: set the portfolio's trading state. Returning to ACTIVE takes the
    marked equity of that moment as the new peak and the day's new opening."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"state": "ACTIVE", "reason": "losses reviewed"}]},
    )

    state: Annotated[TradingState, BeforeValidator(_upper)]
    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$"
        ),
    ] = "set by the operator"


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
    max_daily_loss_pct: DecimalStr | None = Field(
        description="the market day's loss (realized plus unrealized, % of its opening equity) "
        "that halts trading; null: no daily limit"
    )
    max_drawdown_pct: DecimalStr | None = Field(
        description="the fall from the equity peak (%) that halts trading; null: no limit"
    )
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


class BookPointOut(BaseModel):
    at: UtcTime = Field(description="market time of the change")
    equity: DecimalStr = Field(description="starting equity plus realized P&L")
    marked_equity: DecimalStr = Field(
        description="plus the unrealized P&L at the prices the campaigns had taken then"
    )
    realized_pnl: DecimalStr
    open_risk: DecimalStr
    committed_risk: DecimalStr = Field(description="open plus reserved risk")
    heat_pct: DecimalStr | None = Field(
        description="committed risk, % of equity; null when equity is at or below zero"
    )


class RealizedDayOut(BaseModel):
    day: date = Field(description="the market day (UTC date) of the exits")
    realized_pnl: DecimalStr


class PortfolioHistoryOut(BaseModel):
    """The book after each change (each campaign's save, in market time), and realized P&L
    by market day, with the heat limits to draw them against."""

    starting_equity: DecimalStr
    max_heat_pct: DecimalStr
    heat_warning_pct: DecimalStr
    heat_critical_pct: DecimalStr
    points: list[BookPointOut] = Field(description="oldest first; the newest ``limit`` of them")
    total_points: int
    days: list[RealizedDayOut] = Field(description="every market day with an exit, oldest first")

    @classmethod
    def of(cls, history: BookHistory, policy: Policy, limit: int) -> "PortfolioHistoryOut":
        shown = history.points[-limit:]
        return cls(
            starting_equity=history.starting_equity,
            max_heat_pct=policy.portfolio_max_heat_pct,
            heat_warning_pct=policy.heat_warning_pct,
            heat_critical_pct=policy.heat_critical_pct,
            points=[
                BookPointOut(
                    at=p.at,
                    equity=p.equity,
                    marked_equity=p.marked_equity,
                    realized_pnl=p.realized_pnl,
                    open_risk=p.open_risk,
                    committed_risk=p.committed_risk,
                    heat_pct=p.heat_pct,
                )
                for p in shown
            ],
            total_points=len(history.points),
            days=[RealizedDayOut(day=d, realized_pnl=pnl) for d, pnl in history.days],
        )
