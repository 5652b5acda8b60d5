"""A scenario played through the in-process player of the backtest (``Backtest``), with the
bars of each symbol merged ``coalesce`` at a time as the price publisher may merge them; with
``coalesce=1`` it is the backtest itself, bar by bar."""

from dataclasses import dataclass, field
from decimal import Decimal

from campaign_engine.backtest.engine import Backtest
from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.backtest.timeline import Decision
from campaign_engine.domain.bar_coalescing import merge
from campaign_engine.domain.ledger import r_multiple
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import ZERO, total
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, Pattern
from campaign_engine.scenarios import ExpectedStatus, Scenario


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
    pending: dict[str, PriceUpdate] = field(default_factory=dict)
    engine: Backtest = field(init=False)

    def __post_init__(self) -> None:
        self.engine = Backtest(self.policy)

    @property
    def plans(self) -> list[AllocationPlan]:
        return self.engine.plans

    def flush(self, symbol: str) -> None:
        update = self.pending.pop(symbol, None)
        if update is not None:
            self.engine.take_bar(update)

    def play(self) -> "DomainPlay":
        bar = -1
        for step in scenario_timeline(self.scenario).steps:
            if isinstance(step, Decision):
                for symbol in [s for s in self.pending if self.engine.open_campaigns(s)]:
                    self.flush(symbol)
                self.engine.decide(step.signals, step.at)
                continue
            bar += 1
            for update in step.updates:
                self.pending[update.symbol] = merge(self.pending.get(update.symbol), update)
                if (bar + self.offset) % self.coalesce == self.coalesce - 1:
                    self.flush(update.symbol)
        for symbol in list(self.pending):
            self.flush(symbol)
        return self

    def result(self, key: str) -> Result:
        state = self.engine.states.get(self.scenario.range(key).campaign_id())
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
