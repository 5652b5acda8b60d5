"""A campaign's two risk figures, each defined here and nowhere else.

- **Open risk**: what the shares still held lose if they stop out at their current stops
  (``Position.open_risk`` summed). As a percentage of equity it is SPEC section 6's
  ``current_risk`` and the Temporal search attribute ``CampaignOpenRiskPct``.
- **Committed risk**: open risk plus the risk reserved for approved entries that have not
  filled yet. It is what the campaign adds to the portfolio's heat (SPEC section 3, rule 9),
  and ``GET /portfolio``'s risk by campaign.

Every screen that shows either figure (the Temporal UI, the REST API and so the dashboard,
the backtest report) reads it from :class:`RiskFigures`, so the same campaign shows the same
numbers everywhere. Percentages are rounded up to 8 places, like every risk figure held
against a limit (``percent_of_equity``); a screen may show fewer places, never another figure.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING

from campaign_engine.domain.money import STORED_PLACES, percent_of, plus, total
from campaign_engine.domain.positions import Position
from campaign_engine.domain.types import MoneyValue, PercentValue


def committed_risk(*, open_risk: MoneyValue, reserved_risk: MoneyValue) -> MoneyValue:
    """Money: open risk plus reserved risk, for one campaign or summed over many."""
    return plus(open_risk, reserved_risk)


def percent_of_equity(risk: MoneyValue, equity: MoneyValue) -> PercentValue:
    """Risk in money as a percentage of ``equity`` (499.50 of 100,000 -> 0.4995): either
    figure of a campaign, an entry's risk, the portfolio's heat. The one place risk becomes
    a percentage: to 8 places, rounded up, so risk held against a limit is never understated."""
    exact = percent_of(part=risk, whole=equity)
    return PercentValue(exact.quantize(STORED_PLACES, rounding=ROUND_CEILING))


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFigures:
    """One campaign's risk in money, and as a percentage of the equity it is measured on."""

    open_risk: MoneyValue
    reserved_risk: MoneyValue
    equity: MoneyValue

    @classmethod
    def of(cls, positions: Iterable[Position], equity: MoneyValue) -> "RiskFigures":
        """The figures of a campaign holding ``positions``."""
        held = tuple(positions)
        return cls(
            open_risk=total(p.open_risk for p in held),
            reserved_risk=total(p.reserved_risk for p in held),
            equity=equity,
        )

    @property
    def committed_risk(self) -> MoneyValue:
        return committed_risk(open_risk=self.open_risk, reserved_risk=self.reserved_risk)

    @property
    def open_risk_pct(self) -> PercentValue:
        return percent_of_equity(self.open_risk, self.equity)

    @property
    def committed_risk_pct(self) -> PercentValue:
        return percent_of_equity(self.committed_risk, self.equity)
