"""Portfolio limits: heat and correlated risk against a view of every campaign's exposure.

The view is the one place heat is computed: entry admission checks it and ``GET /portfolio``
shows it, so what the API reports is what the next decision will see."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from campaign_engine.domain.money import NO_MONEY, difference, plus, total
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.risk import committed_risk, percent_of_equity
from campaign_engine.domain.types import Money, MoneyValue, PercentValue, Symbol
from campaign_engine.domain.vocabulary import HeatAlertLevel, RejectionCode, TradingState


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """One campaign's risk in money: open (at current stops) plus reserved (approved,
    unfilled)."""

    campaign_id: str
    symbol: Symbol
    open_risk: Money = NO_MONEY
    reserved_risk: Money = NO_MONEY

    @property
    def total(self) -> MoneyValue:
        """The campaign's committed risk (domain.risk), what it adds to heat."""
        return committed_risk(open_risk=self.open_risk, reserved_risk=self.reserved_risk)


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioView:
    """What an entry decision needs to know of the rest of the portfolio: equity (starting
    plus realized, what entries are sized on), every campaign's risk, and the trading state
    (SPEC section 11), which refuses entries unless ACTIVE."""

    equity: MoneyValue
    exposures: tuple[Exposure, ...] = ()
    trading_state: TradingState = TradingState.ACTIVE
    trading_reason: str | None = None
    # Summed once per view: every entry decision reads them, some several times.
    _total: MoneyValue = field(init=False, repr=False, compare=False)
    _by_symbol: dict[str, MoneyValue] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_symbol: dict[str, MoneyValue] = {}
        for exposure in self.exposures:
            by_symbol[exposure.symbol] = plus(
                by_symbol.get(exposure.symbol, NO_MONEY), exposure.total
            )
        object.__setattr__(self, "_by_symbol", by_symbol)
        object.__setattr__(self, "_total", total(by_symbol.values()))

    def heat_pct(self) -> PercentValue:
        """Open plus reserved risk of every campaign, % of equity, rounded up to 8 places
        like every risk figure held against a limit."""
        return percent_of_equity(self._total, self.equity)

    def group_risk_pct(self, group: str, policy: Policy) -> PercentValue:
        risk = total(self._by_symbol.get(s, NO_MONEY) for s in policy.group_members(group))
        return percent_of_equity(risk, self.equity)

    def with_exposure(self, exposure: Exposure) -> "PortfolioView":
        """This view with ``exposure`` replacing the campaign's previous one. Every entry
        decision asks for it, so the sums are adjusted, not summed again."""
        kept: list[Exposure] = []
        by_symbol = dict(self._by_symbol)
        for e in self.exposures:
            if e.campaign_id == exposure.campaign_id:
                by_symbol[e.symbol] = difference(high=by_symbol[e.symbol], low=e.total)
            else:
                kept.append(e)
        by_symbol[exposure.symbol] = plus(by_symbol.get(exposure.symbol, NO_MONEY), exposure.total)
        view = object.__new__(PortfolioView)
        object.__setattr__(view, "equity", self.equity)
        object.__setattr__(view, "trading_state", self.trading_state)
        object.__setattr__(view, "trading_reason", self.trading_reason)
        object.__setattr__(view, "exposures", (*kept, exposure))
        object.__setattr__(view, "_by_symbol", by_symbol)
        object.__setattr__(view, "_total", total(by_symbol.values()))
        return view

    @classmethod
    def of(
        cls,
        equity: MoneyValue,
        exposures: Iterable[Exposure],
        trading_state: TradingState = TradingState.ACTIVE,
        trading_reason: str | None = None,
    ) -> "PortfolioView":
        return cls(
            equity=equity,
            exposures=tuple(exposures),
            trading_state=trading_state,
            trading_reason=trading_reason,
        )


@dataclass(frozen=True, slots=True)
class LimitBreach:
    code: RejectionCode
    reason: str


def check_portfolio_limits(
    view: PortfolioView,
    symbol: str,
    *,
    risk_pct: PercentValue,
    policy: Policy,
    heat: PercentValue | None = None,
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


def heat_alert_level(heat_pct: PercentValue, policy: Policy) -> HeatAlertLevel:
    if heat_pct >= policy.portfolio_max_heat_pct:
        return HeatAlertLevel.EXCEEDED
    if heat_pct >= policy.heat_critical_pct:
        return HeatAlertLevel.CRITICAL
    if heat_pct >= policy.heat_warning_pct:
        return HeatAlertLevel.WARNING
    return HeatAlertLevel.NORMAL
