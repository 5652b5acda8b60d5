"""Test data in the SPEC's terms: the AAPL range of the worked example, equity 100,000."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from pydantic import TypeAdapter

from campaign_engine.domain.campaign import (
    Outcome,
    apply_fill,
    decide_entry,
    exposure_of,
    on_price,
)
from campaign_engine.domain.entry import AdmissionRequest
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.orders import Order, paper_fill
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue, PercentValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import Pattern

D = Decimal


# Numbers of a kind, for tests that build domain values by hand.
def as_price(value: Decimal | str | int) -> PriceValue:
    return PriceValue(D(value))


def as_money(value: Decimal | str | int) -> MoneyValue:
    return MoneyValue(D(value))


def as_percent(value: Decimal | str | int) -> PercentValue:
    return PercentValue(D(value))


def as_shares(value: Decimal | str | int) -> QuantityValue:
    return QuantityValue(D(value))


T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)
EQUITY = as_money("100000")
RANGE_ID = UUID("00000000-0000-4000-8000-000000000001")

# The worked example's entries: (entry, stop).
WORKED = {
    Pattern.SPRING: (D("148.50"), D("147.00")),
    Pattern.SOS: (D("150.25"), D("148.75")),
    Pattern.LPS: (D("151.00"), D("149.50")),
    Pattern.UTAD: (D("149.00"), D("148.00")),
}


def trading_range(
    *,
    symbol: str = "AAPL",
    creek: str = "145.00",
    ice: str = "150.00",
    jump: str = "156.00",
    spring_low: str | None = None,
    range_id: UUID = RANGE_ID,
    start: datetime = T0,
) -> TradingRange:
    return TradingRange(
        id=range_id,
        symbol=symbol,
        timeframe="1h",
        start_time=start,
        creek=D(creek),
        ice=D(ice),
        jump=D(jump),
        spring_low=D(spring_low) if spring_low else None,
    )


def signal(
    pattern: Pattern,
    *,
    entry: Decimal | str | None = None,
    stop: Decimal | str | None = None,
    confidence: int | str = 80,
    r_multiple: str = "3.0",
    requested_risk_pct: str | None = None,
    targets: tuple[str, str, str] | None = None,
    rng: TradingRange | None = None,
    signal_id: UUID | None = None,
    at: datetime = T0,
) -> EntrySignal:
    worked_entry, worked_stop = WORKED[pattern]
    rng = rng or trading_range()
    return EntrySignal(
        signal_id=signal_id or uuid4(),
        symbol=rng.symbol,
        timeframe=rng.timeframe,
        trading_range=rng,
        pattern=pattern,
        entry_price=D(entry) if entry is not None else worked_entry,
        stop_loss=D(stop) if stop is not None else worked_stop,
        targets=(D(targets[0]), D(targets[1]), D(targets[2])) if targets else None,
        confidence=D(confidence),
        r_multiple=D(r_multiple),
        requested_risk_pct=D(requested_risk_pct) if requested_risk_pct else None,
        generated_at=at,
    )


def tick(price: str, minutes: int, symbol: str = "AAPL") -> PriceUpdate:
    return PriceUpdate(symbol=symbol, as_of=T0 + timedelta(minutes=minutes), price=D(price))


def bar(o: str, h: str, low: str, c: str, minutes: int, symbol: str = "AAPL") -> PriceUpdate:
    return PriceUpdate(
        symbol=symbol,
        as_of=T0 + timedelta(minutes=minutes),
        open=D(o),
        high=D(h),
        low=D(low),
        close=D(c),
    )


def empty_portfolio(equity: MoneyValue = EQUITY, *exposures: Exposure) -> PortfolioView:
    return PortfolioView(equity=equity, exposures=exposures)


@dataclass
class Book:
    """Plays inputs through the aggregate as the workflow will: every order it places is
    filled at once by the paper fill model, and the portfolio is just this campaign on a
    fixed equity (so the SPEC's worked numbers hold)."""

    state: CampaignState = field(default_factory=lambda: CampaignState.for_range(trading_range()))
    policy: Policy = DEFAULT_POLICY
    equity: MoneyValue = EQUITY
    others: tuple[Exposure, ...] = ()
    fill_orders: bool = True
    orders: list[Order] = field(default_factory=list)
    events: list[CampaignEvent] = field(default_factory=list)
    clock: int = 0

    def portfolio(self) -> PortfolioView:
        mine = (exposure_of(self.state),) if self.state.exists else ()
        return PortfolioView(equity=self.equity, exposures=(*self.others, *mine))

    def _tick(self) -> int:
        """Numbers the commands, for their correlation ids."""
        self.clock += 1
        return self.clock

    def carry_out(self, outcome: Outcome) -> Outcome:
        self.state = outcome.state
        self.orders.extend(outcome.orders)
        self.events.extend(outcome.events)
        if self.fill_orders:
            for order in outcome.orders:
                self._tick()
                self.fill(order)
        return outcome

    def fill(self, order: Order, shares: QuantityValue | None = None) -> Outcome:
        """Book ``order`` filled at its expected price at the market time it was made (the
        paper fill model), all of it or ``shares`` of it."""
        fill = paper_fill(order, order.created_at)
        if shares is not None:
            fill = fill.model_copy(update={"quantity": shares})
        filled = apply_fill(self.state, fill, fill.filled_at)
        self.state = filled.state
        self.events.extend(filled.events)
        return filled

    def submit(self, entry: EntrySignal) -> AllocationPlan:
        """Decided at the signal's market time, as the workflow decides it."""
        self._tick()
        outcome = self.carry_out(
            decide_entry(self.state, entry, self.portfolio(), self.policy, entry.generated_at)
        )
        assert outcome.plan is not None
        return outcome.plan

    def price(self, update: PriceUpdate) -> Outcome:
        """Evaluated at the bar's market time."""
        n = self._tick()
        return self.carry_out(on_price(self.state, update, self.policy, update.as_of, f"px-{n}"))

    def feed(self, updates: Iterable[PriceUpdate]) -> None:
        for update in updates:
            self.price(update)

    def position(self, pattern: Pattern) -> Position:
        found = self.state.position_for(pattern)
        assert found is not None, f"no {pattern} position"
        return found


def reservation(campaign: str, symbol: str = "AAPL", **changes: object) -> AdmissionRequest:
    """A first entry of ``campaign`` (nothing open, nothing reserved) asking the portfolio
    for 2% at the worked SOS's prices, unless ``changes`` say otherwise."""
    values: dict[str, object] = {
        "campaign_id": campaign,
        "signal_id": uuid4(),
        "symbol": symbol,
        "risk_pct": D("2.0"),
        "entry_price": D("150.25"),
        "stop_loss": D("148.75"),
        "open_risk": D(0),
        "reserved_risk": D(0),
        "realized_pnl": D(0),
        "version": 0,
        "policy": DEFAULT_POLICY,
    }
    return TypeAdapter(AdmissionRequest).validate_python(values | changes)
