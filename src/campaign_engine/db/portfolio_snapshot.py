"""The portfolio as ``GET /portfolio`` shows it: equity, heat and where the risk sits, by
campaign and by correlation group. Heat and group risk are the figures of the domain's
portfolio view, the one entry admission checks (SPEC section 3 rule 9)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from campaign_engine.domain.limits import Exposure, PortfolioView, heat_alert_level
from campaign_engine.domain.money import ZERO, risk_percent_of
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import HeatAlertLevel


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


def portfolio_snapshot(
    starting_equity: Decimal,
    realized_pnl: Decimal,
    exposures: Iterable[Exposure],
    policy: Policy,
) -> PortfolioSnapshot:
    """The snapshot of the campaigns' ``exposures`` on equity of ``starting_equity`` plus
    ``realized_pnl``, grouped by the correlation groups of ``policy`` (the one the campaigns
    are decided with)."""
    equity = starting_equity + realized_pnl
    view = PortfolioView.of(equity, exposures)
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
        starting_equity=starting_equity,
        realized_pnl=realized_pnl,
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
