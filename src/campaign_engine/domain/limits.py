"""Portfolio limits: heat and correlated risk against a view of every campaign's exposure.

The view is the one place heat is computed: entry admission checks it and ``GET /portfolio``
shows it, so what the API reports is what the next decision will see."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from campaign_engine.domain.money import ZERO, risk_percent_of
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import Money, Price, Symbol
from campaign_engine.domain.vocabulary import HeatAlertLevel, RejectionCode


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """One campaign's risk in money: open (at current stops) plus reserved (approved,
    unfilled)."""

    campaign_id: str
    symbol: Symbol
    open_risk: Money = ZERO
    reserved_risk: Money = ZERO

    @property
    def total(self) -> Decimal:
        return self.open_risk + self.reserved_risk


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioView:
    """What an entry decision needs to know of the rest of the portfolio."""

    equity: Price
    exposures: tuple[Exposure, ...] = ()
    # Summed once per view: every entry decision reads them, some several times.
    _total: Decimal = field(init=False, repr=False, compare=False)
    _by_symbol: dict[str, Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_symbol: dict[str, Decimal] = {}
        for exposure in self.exposures:
            by_symbol[exposure.symbol] = by_symbol.get(exposure.symbol, ZERO) + exposure.total
        object.__setattr__(self, "_by_symbol", by_symbol)
        object.__setattr__(self, "_total", sum(by_symbol.values(), ZERO))

    def heat_pct(self) -> Decimal:
        """Open plus reserved risk of every campaign, % of equity, rounded up to 8 places
        like every risk figure held against a limit."""
        return risk_percent_of(self._total, self.equity)

    def group_risk_pct(self, group: str, policy: Policy) -> Decimal:
        risk = sum((self._by_symbol.get(s, ZERO) for s in policy.group_members(group)), ZERO)
        return risk_percent_of(risk, self.equity)

    def with_exposure(self, exposure: Exposure) -> "PortfolioView":
        """This view with ``exposure`` replacing the campaign's previous one. Every entry
        decision asks for it, so the sums are adjusted, not summed again."""
        kept: list[Exposure] = []
        by_symbol = dict(self._by_symbol)
        for e in self.exposures:
            if e.campaign_id == exposure.campaign_id:
                by_symbol[e.symbol] -= e.total
            else:
                kept.append(e)
        by_symbol[exposure.symbol] = by_symbol.get(exposure.symbol, ZERO) + exposure.total
        view = object.__new__(PortfolioView)
        object.__setattr__(view, "equity", self.equity)
        object.__setattr__(view, "exposures", (*kept, exposure))
        object.__setattr__(view, "_by_symbol", by_symbol)
        object.__setattr__(view, "_total", sum(by_symbol.values(), ZERO))
        return view

    @classmethod
    def of(cls, equity: Decimal, exposures: Iterable[Exposure]) -> "PortfolioView":
        return cls(equity=equity, exposures=tuple(exposures))


@dataclass(frozen=True, slots=True)
class LimitBreach:
    code: RejectionCode
    reason: str


def check_portfolio_limits(
    view: PortfolioView,
    symbol: str,
    risk_pct: Decimal,
    policy: Policy,
    heat: Decimal | None = None,
) -> LimitBreach | None:
    """Heat first, then the symbol's correlation group (SPEC section 3 rule 9). ``heat`` is
    the view's heat when the caller has it already."""
    heat = view.heat_pct() if heat is None else heat
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
