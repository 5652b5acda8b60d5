"""A scenario played through the pure domain, the way the stack plays it: signals decided
against the whole portfolio (heat, equity with realized P&L), orders filled by the paper
model, bars delivered to the open campaigns of their symbol, merged as the publisher may."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid5

from campaign_engine.domain.campaign import Outcome, apply_fill, decide_entry, exposure_of, on_price
from campaign_engine.domain.ledger import r_multiple
from campaign_engine.domain.limits import PortfolioView
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import ZERO, plus, total
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.prices import merge
from campaign_engine.domain.priority import prioritize
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, Pattern
from campaign_engine.scenario import ExpectedStatus, Scenario, ScenarioSignal

IDS = UUID("3d1c1f0e-5b8a-4c55-9a57-1f2b3c4d5e6f")


@dataclass(frozen=True)
class Result:
    """What became of one range's campaign."""

    status: str
    entries: tuple[Pattern, ...]
    shares: dict[Pattern, Decimal]
    realized_pnl: Decimal
    r_multiple: Decimal | None


@dataclass
class DomainPlay:
    """The stack in miniature. Bars of a symbol are merged ``coalesce`` at a time (shifted
    by ``offset``) before they reach its campaigns, as the price publisher does; before any
    signal the open campaigns have had every earlier bar, as the demo player waits for. A
    symbol without an open campaign keeps its pending bars, so a new campaign's first bar may
    carry the highs and lows of bars from just before it opened, as it may on the stack."""

    scenario: Scenario
    coalesce: int = 1
    offset: int = 0
    policy: Policy = DEFAULT_POLICY
    states: dict[str, CampaignState] = field(default_factory=dict)
    plans: list[AllocationPlan] = field(default_factory=list)
    pending: dict[str, PriceUpdate] = field(default_factory=dict)

    def portfolio(self) -> PortfolioView:
        existing = [s for s in self.states.values() if s.exists]
        realized = total(s.realized_pnl for s in existing)
        return PortfolioView.of(
            plus(self.policy.starting_equity, realized), (exposure_of(s) for s in existing)
        )

    def carry_out(self, key: str, outcome: Outcome) -> None:
        state = outcome.state
        for order in outcome.orders:
            fill = paper_fill(order, order.created_at)
            state = apply_fill(state, fill, order.created_at).state
        self.states[key] = state

    def decide(self, signal: ScenarioSignal, bar: int) -> None:
        scenario_range = self.scenario.range(signal.range)
        now = self.scenario.bars[bar][0].as_of - timedelta(minutes=1)
        trading_range = scenario_range.trading_range(uuid5(IDS, scenario_range.key))
        entry = signal.entry_signal(trading_range, uuid5(IDS, signal.id), now)
        state = self.states.get(signal.range) or CampaignState.for_range(trading_range)
        outcome = decide_entry(state, entry, self.portfolio(), self.policy, now)
        assert outcome.plan is not None
        self.plans.append(outcome.plan)
        self.carry_out(signal.range, outcome)

    def open_on(self, symbol: str) -> list[str]:
        return [
            key
            for key, s in self.states.items()
            if s.symbol == symbol and s.exists and not s.is_closed
        ]

    def flush(self, symbol: str) -> None:
        update = self.pending.pop(symbol, None)
        if update is None:
            return
        for key in self.open_on(symbol):
            outcome = on_price(self.states[key], update, self.policy, update.as_of, "px")
            self.carry_out(key, outcome)

    def play(self) -> "DomainPlay":
        steps = self.scenario.steps()
        for bar, updates in enumerate(self.scenario.bars):
            if bar in steps:
                for symbol in [s for s in self.pending if self.open_on(s)]:
                    self.flush(symbol)
                for step in steps[bar]:
                    by_id = {s.id: s for s in step.signals}
                    ranges = {s.id: self.scenario.range(s.range) for s in step.signals}
                    # The stack decides a batch in FR28 priority order, one after the other.
                    order = prioritize(
                        s.entry_signal(
                            ranges[s.id].trading_range(uuid5(IDS, ranges[s.id].key)),
                            uuid5(IDS, s.id),
                            updates[0].as_of,
                        )
                        for s in step.signals
                    )
                    names = {uuid5(IDS, s.id): s.id for s in step.signals}
                    for entry in order:
                        self.decide(by_id[names[entry.signal_id]], bar)
            for update in updates:
                self.pending[update.symbol] = merge(self.pending.get(update.symbol), update)
                if (bar + self.offset) % self.coalesce == self.coalesce - 1:
                    self.flush(update.symbol)
        for symbol in list(self.pending):
            self.flush(symbol)
        return self

    def result(self, key: str) -> Result:
        state = self.states.get(key)
        if state is None or not state.exists:
            return Result(ExpectedStatus.NOT_CREATED.value, (), {}, ZERO, None)
        filled = {p.pattern: p for p in state.positions if p.shares > ZERO}
        initial_risk = total(p.initial_risk for p in filled.values())
        return Result(
            status=state.status.value,
            entries=tuple(p for p in LONG_SEQUENCE if p in filled),
            shares={pattern: p.shares for pattern, p in filled.items()},
            realized_pnl=state.realized_pnl,
            r_multiple=r_multiple(pnl=state.realized_pnl, initial_risk=initial_risk),
        )

    def results(self) -> dict[str, Result]:
        return {r.key: self.result(r.key) for r in self.scenario.ranges}
