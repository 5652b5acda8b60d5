"""The portfolio as ``GET /portfolio`` shows it: equity, heat and where the risk sits, by
campaign and by correlation group, and the trading state. Heat and group risk are the figures
of the domain's portfolio view, the one entry admission checks (SPEC section 3 rule 9).

Equity at or below zero has no meaningful percentage: heat and every risk % are then None
(unbounded), the alert level is EXCEEDED and ``equity_alert`` says why, rather than a
negative heat (a negative risk over a negative equity read as -214%)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from campaign_engine.domain.limits import Exposure, PortfolioView, heat_alert_level
from campaign_engine.domain.money import NO_MONEY, ZERO, plus, total
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.risk import RiskFigures, committed_risk
from campaign_engine.domain.trading_state import TradingRecord
from campaign_engine.domain.types import MoneyValue, PercentValue
from campaign_engine.domain.vocabulary import HeatAlertLevel, TradingState


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignRisk:
    campaign_id: str
    symbol: str
    correlation_group: str
    open_risk: MoneyValue
    reserved_risk: MoneyValue
    total_risk: MoneyValue  # committed risk (domain.risk): open plus reserved
    risk_pct: PercentValue | None  # committed risk %; None: equity at or below zero


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRisk:
    correlation_group: str
    symbols: tuple[str, ...]  # the group's symbols that carry risk now
    open_risk: MoneyValue
    reserved_risk: MoneyValue
    total_risk: MoneyValue
    risk_pct: PercentValue | None
    limit_pct: PercentValue


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioSnapshot:
    """Heat (SPEC section 3 rule 9): open risk at current stops plus the risk reserved for
    approved, unfilled entries, over equity."""

    starting_equity: MoneyValue
    realized_pnl: MoneyValue
    equity: MoneyValue
    unrealized_pnl: MoneyValue
    marked_equity: MoneyValue
    open_risk: MoneyValue
    reserved_risk: MoneyValue
    total_risk: MoneyValue
    heat_pct: PercentValue | None
    max_heat_pct: PercentValue
    alert_level: HeatAlertLevel
    equity_alert: str | None
    by_campaign: tuple[CampaignRisk, ...]
    by_group: tuple[GroupRisk, ...]
    trading: TradingRecord
    trading_state_at: datetime | None

    @property
    def trading_state(self) -> TradingState:
        return self.trading.state

    @property
    def market_day(self) -> date | None:
        return self.trading.market_day


def portfolio_snapshot(
    starting_equity: MoneyValue,
    realized_pnl: MoneyValue,
    exposures: Iterable[Exposure],
    policy: Policy,
    *,
    unrealized_pnl: MoneyValue = NO_MONEY,
    trading: TradingRecord | None = None,
    trading_state_at: datetime | None = None,
) -> PortfolioSnapshot:
    """The snapshot of the campaigns' ``exposures`` on equity of ``starting_equity`` plus
    ``realized_pnl``, grouped by the correlation groups of ``policy`` (the one the campaigns
    are decided with), with the trading state."""
    equity = plus(starting_equity, realized_pnl)
    trading = trading or TradingRecord()
    view = PortfolioView.of(equity, exposures, trading.state, trading.reason)
    solvent = equity > ZERO
    by_campaign = tuple(
        CampaignRisk(
            campaign_id=e.campaign_id,
            symbol=e.symbol,
            correlation_group=policy.correlation_group(e.symbol),
            open_risk=e.open_risk,
            reserved_risk=e.reserved_risk,
            total_risk=figures.committed_risk,
            risk_pct=figures.committed_risk_pct if solvent else None,
        )
        for e in view.exposures
        for figures in (
            RiskFigures(open_risk=e.open_risk, reserved_risk=e.reserved_risk, equity=equity),
        )
    )
    open_risk = total(e.open_risk for e in view.exposures)
    reserved = total(e.reserved_risk for e in view.exposures)
    heat = view.heat_pct() if solvent else None
    return PortfolioSnapshot(
        starting_equity=starting_equity,
        realized_pnl=realized_pnl,
        equity=equity,
        unrealized_pnl=unrealized_pnl,
        marked_equity=plus(equity, unrealized_pnl),
        open_risk=open_risk,
        reserved_risk=reserved,
        total_risk=committed_risk(open_risk=open_risk, reserved_risk=reserved),
        heat_pct=heat,
        max_heat_pct=policy.portfolio_max_heat_pct,
        alert_level=heat_alert_level(heat, policy) if heat is not None else HeatAlertLevel.EXCEEDED,
        equity_alert=_equity_alert(equity, plus(equity, unrealized_pnl)),
        by_campaign=by_campaign,
        by_group=_by_group(view, by_campaign, policy),
        trading=trading,
        trading_state_at=trading_state_at,
    )


def _equity_alert(equity: MoneyValue, marked: MoneyValue) -> str | None:
    """Why equity needs an operator's eye: at or below zero, realized or marked. Never a
    negative equity without it."""
    if equity <= ZERO:
        return f"equity {equity} is at or below zero: heat is unbounded and entries are refused"
    if marked <= ZERO:
        return f"marked equity {marked} (with unrealized P&L) is at or below zero: trading halts"
    return None


def _by_group(
    view: PortfolioView, by_campaign: Sequence[CampaignRisk], policy: Policy
) -> tuple[GroupRisk, ...]:
    groups: dict[str, list[CampaignRisk]] = {}
    for risk in by_campaign:
        groups.setdefault(risk.correlation_group, []).append(risk)
    result = []
    for group in sorted(groups):
        members = groups[group]
        open_risk = total(m.open_risk for m in members)
        reserved = total(m.reserved_risk for m in members)
        result.append(
            GroupRisk(
                correlation_group=group,
                symbols=tuple(sorted({m.symbol for m in members})),
                open_risk=open_risk,
                reserved_risk=reserved,
                total_risk=committed_risk(open_risk=open_risk, reserved_risk=reserved),
                risk_pct=view.group_risk_pct(group, policy) if view.equity > ZERO else None,
                limit_pct=policy.correlated_max_risk_pct,
            )
        )
    return tuple(result)
