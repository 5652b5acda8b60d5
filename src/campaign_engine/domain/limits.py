"""Portfolio limits: heat and correlated risk against a view of every campaign's exposure."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from campaign_engine.domain.money import ZERO, percent_of
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import Money, Price, Symbol
from campaign_engine.domain.vocabulary import HeatAlertLevel, RejectionCode


class Exposure(BaseModel):
    """One campaign's risk in money: open (at current stops) plus reserved (approved,
    unfilled)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    campaign_id: str
    symbol: Symbol
    open_risk: Money = ZERO
    reserved_risk: Money = ZERO

    @property
    def total(self) -> Decimal:
        return self.open_risk + self.reserved_risk


class PortfolioView(BaseModel):
    """What an entry decision needs to know of the rest of the portfolio."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    equity: Price
    exposures: tuple[Exposure, ...] = ()

    def heat_pct(self) -> Decimal:
        return percent_of(sum((e.total for e in self.exposures), ZERO), self.equity)

    def group_risk_pct(self, group: str, policy: Policy) -> Decimal:
        risk = sum(
            (e.total for e in self.exposures if policy.correlation_group(e.symbol) == group), ZERO
        )
        return percent_of(risk, self.equity)

    def with_exposure(self, exposure: Exposure) -> "PortfolioView":
        """This view with ``exposure`` replacing the campaign's previous one."""
        others = tuple(e for e in self.exposures if e.campaign_id != exposure.campaign_id)
        return self.model_copy(update={"exposures": (*others, exposure)})

    @classmethod
    def of(cls, equity: Decimal, exposures: Iterable[Exposure]) -> "PortfolioView":
        return cls(equity=equity, exposures=tuple(exposures))


@dataclass(frozen=True, slots=True)
class LimitBreach:
    code: RejectionCode
    reason: str


def check_portfolio_limits(
    view: PortfolioView, symbol: str, risk_pct: Decimal, policy: Policy
) -> LimitBreach | None:
    """Heat first, then the symbol's correlation group (SPEC section 3 rule 9)."""
    heat = view.heat_pct()
    if heat + risk_pct > policy.portfolio_max_heat_pct:
        return LimitBreach(
            RejectionCode.PORTFOLIO_HEAT,
            f"portfolio heat {heat:.4f}% + {risk_pct:.4f}% would exceed the "
            f"{policy.portfolio_max_heat_pct}% limit",
        )
    group = policy.correlation_group(symbol)
    group_pct = view.group_risk_pct(group, policy)
    if group_pct + risk_pct > policy.correlated_max_risk_pct:
        return LimitBreach(
            RejectionCode.CORRELATED_RISK,
            f"correlated risk of group {group} {group_pct:.4f}% + {risk_pct:.4f}% would exceed "
            f"the {policy.correlated_max_risk_pct}% limit",
        )
    return None


def heat_alert_level(heat_pct: Decimal, policy: Policy) -> HeatAlertLevel:
    if heat_pct >= policy.portfolio_max_heat_pct:
        return HeatAlertLevel.EXCEEDED
    if heat_pct >= policy.heat_critical_pct:
        return HeatAlertLevel.CRITICAL
    if heat_pct >= policy.heat_warning_pct:
        return HeatAlertLevel.WARNING
    return HeatAlertLevel.NORMAL
