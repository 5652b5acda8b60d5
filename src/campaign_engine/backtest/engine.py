"""The in-process player: signals and bars through the domain's commands, in market time, the
way the stack plays them (SPEC section 10).

- Signals of one instant are one submission, decided with ``decide_batch`` (priority order)
  against the whole portfolio: heat of every campaign, equity = starting equity + realized P&L.
- Orders fill by the paper broker's model (``paper_fill``): an entry at once at its price,
  stamped with the decision's market time; the exits a bar triggers, stamped with the bar's.
- A bar goes to every campaign open on its symbol that an entry signal stamped before the bar
  opened (SPEC section 9), one bar at a time, never merged.
- The trading state is assessed after each stored change as live assesses it
  (``trading.py``): a halt refuses the entries after it (TRADING_HALTED).
- After every instant of bars the portfolio is marked to market at the closes; after every
  decision its heat is noted too.
- A bar that crosses none of a campaign's levels (``is_quiet``) is not evaluated: it is kept
  as the campaign's last price and written into its state when anything next reads or changes
  it, as ``on_price`` would have written it (``skip_quiet_bars=False`` evaluates every bar).

No clock, no I/O: the same timeline always plays the same way.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, is_
from typing import Literal
from uuid import UUID

from campaign_engine.backtest.bar_screen import screen_timeline
from campaign_engine.backtest.open_book import OpenBook
from campaign_engine.backtest.timeline import BarBlock, Bars, Decision, Timeline
from campaign_engine.backtest.trading import PlayTrading
from campaign_engine.domain.bar_coalescing import price_correlation_id
from campaign_engine.domain.campaign import Outcome, apply_fill, decide_batch, is_stale, on_price
from campaign_engine.domain.campaign.quiet_bars import (
    LastPrice,
    PriceLevels,
    is_quiet,
    price_levels,
)
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.limits import PortfolioView
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.money import ZERO
from campaign_engine.domain.orders import Order, paper_fill
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue, PriceValue

Progress = Callable[[int], None]
"""Told how many bars have been played so far."""

_SYMBOL, _CLOSE = attrgetter("symbol"), attrgetter("close")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The portfolio at one market time: after the bars of an instant (marked to market at
    their closes) or after a decision (heat changed, equity did not)."""

    at: datetime
    after: Literal["start", "bars", "signals"]
    equity: Decimal  # starting equity + realized + unrealized
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    heat_pct: Decimal


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """What a play left: every campaign's final state, every decision in the order made, every
    event announced, the portfolio over time, and the last close of each symbol."""

    policy: Policy
    states: dict[str, CampaignState]
    plans: tuple[AllocationPlan, ...]
    events: tuple[CampaignEvent, ...]
    snapshots: tuple[Snapshot, ...]
    marks: dict[str, PriceValue]
    bad_prints: tuple[PriceUpdate, ...] = ()  # bars the screen dropped (SPEC section 11)

    @property
    def campaigns(self) -> list[CampaignState]:
        """The campaigns that came to exist, in the order they were created."""
        return [s for s in self.states.values() if s.exists]


@dataclass
class Backtest:
    """The portfolio of campaigns being played. ``decide`` and ``take_bar`` are the two
    inputs; ``play`` feeds a whole timeline through them."""

    policy: Policy = DEFAULT_POLICY
    skip_quiet_bars: bool = True
    plans: list[AllocationPlan] = field(default_factory=list)
    events: list[CampaignEvent] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    marks: dict[str, PriceValue] = field(default_factory=dict)
    _open: OpenBook = field(init=False)
    trading: PlayTrading = field(init=False)  # the trading state (SPEC section 11)
    _decided: set[UUID] = field(default_factory=set)  # the signal ids of ``plans``
    # Every campaign's state but the prices it took quietly since (``_quiet``), and the
    # levels of each open one (``price_levels`` of its state).
    _states: dict[str, CampaignState] = field(default_factory=dict)
    _quiet: dict[str, LastPrice] = field(default_factory=dict)
    _levels: dict[str, PriceLevels] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._open = OpenBook(self.policy.starting_equity)
        self.trading = PlayTrading(self.policy)

    @property
    def states(self) -> dict[str, CampaignState]:
        """Every campaign's state, as ``on_price`` would have left it bar by bar."""
        self._record_quiet()
        return self._states

    def _record_quiet(self, campaign_ids: Iterable[str] | None = None) -> None:
        """The prices taken quietly written into the states (of ``campaign_ids``, or all)."""
        states, quiet = self._states, self._quiet
        for campaign_id in list(quiet) if campaign_ids is None else campaign_ids:
            taken = quiet.pop(campaign_id, None)
            if taken is not None:
                states[campaign_id] = taken.recorded(states[campaign_id])

    # --- the portfolio ---------------------------------------------------------------------

    def open_campaigns(self, symbol: str | None = None) -> list[CampaignState]:
        ids = self._open.ids() if symbol is None else self._open.by_symbol.get(symbol, {})
        states = self.states
        return [states[cid] for cid in ids]

    def realized_pnl(self) -> MoneyValue:
        return self._open.realized_pnl()

    def portfolio(self) -> PortfolioView:
        """What an entry decision sees, as live: every open campaign's exposure, equity
        = starting equity + realized P&L (closed campaigns have no exposure left), and the
        trading state."""
        return self.trading.view(self._open.portfolio())

    # --- the two inputs --------------------------------------------------------------------

    def decide(self, signals: Sequence[EntrySignal], now: datetime) -> list[AllocationPlan]:
        """One submission at market time ``now``: decided in priority order, each approved
        entry filled at once at its price (the paper broker), stamped ``now``."""
        # decide_batch reads the states of the signals' campaigns only
        self._record_quiet({s.campaign_id for s in signals})
        batch = decide_batch(self._states, signals, self.portfolio(), self.policy, now)
        plans = [o.plan for o in batch.outcomes if o.plan is not None]
        touched: dict[str, list[Order]] = {}
        for outcome in batch.outcomes:
            self.events.extend(outcome.events)
            touched.setdefault(outcome.state.campaign_id, []).extend(outcome.orders)
        for campaign_id, orders in touched.items():
            self._carry_out(batch.states[campaign_id], orders)
        for plan in plans:
            if plan.signal_id not in self._decided:  # a repeat: the same plan
                self._decided.add(plan.signal_id)
                self.plans.append(plan)
        self.snapshot(now, "signals")
        return plans

    def take_bar(self, update: PriceUpdate) -> None:
        """One bar, to each campaign open on its symbol (the domain leaves a bar alone that
        is not later than the signal that opened the campaign: ``is_stale``)."""
        self.marks[update.symbol] = update.last
        self._evaluate(update)

    def _evaluate(self, update: PriceUpdate) -> None:
        on_symbol = self._open.by_symbol.get(update.symbol)
        if not on_symbol:  # most bars: no campaign open on their symbol
            return
        states, quiet = self._states, self._quiet
        correlation_id = None
        for campaign_id in list(on_symbol):
            state = states[campaign_id]
            taken = quiet.get(campaign_id)
            if is_stale(state, update) or (taken is not None and not taken.is_newer(update)):
                continue  # not later than the signal or the last bar: on_price ignores it
            if self.skip_quiet_bars and is_quiet(self._levels[campaign_id], update):
                quiet[campaign_id] = (
                    LastPrice.after(state, update) if taken is None else taken.then(update)
                )
                continue
            if taken is not None:
                state = taken.recorded(state)
                del quiet[campaign_id]
            if correlation_id is None:
                correlation_id = price_correlation_id(update)
            outcome = on_price(state, update, self.policy, update.as_of, correlation_id)
            self._carry_out_outcome(outcome)

    def take_bars(self, bars: Bars) -> None:
        """The bars of one instant: every mark moves, and the bars of the symbols with a
        campaign open go to ``take_bar``, in the order given."""
        updates = bars.updates
        block = updates if isinstance(updates, BarBlock) else None
        # attribute reads in C: most bars need no more (read from a file: not even an update)
        symbols = block.symbols() if block else list(map(_SYMBOL, updates))
        at = dict(zip(symbols, range(len(symbols)), strict=True))
        if len(at) < len(updates):  # a symbol twice in one instant: one by one
            for update in updates:
                self.take_bar(update)
        else:
            closes = block.marks() if block else list(map(_CLOSE, updates))
            if any(map(is_, closes, repeat(None))):  # ticks: their price is the mark
                closes = [u.last for u in updates]
            self.marks.update(zip(symbols, closes, strict=True))
            for index in sorted(at[s] for s in self._open.symbols if s in at):
                self._evaluate(updates[index])
        self.snapshot(bars.at, "bars")

    # --- carrying out ----------------------------------------------------------------------

    def _carry_out_outcome(self, outcome: Outcome) -> None:
        self.events.extend(outcome.events)
        self._carry_out(outcome.state, outcome.orders)

    def _carry_out(self, state: CampaignState, orders: Iterable[Order]) -> None:
        """The paper broker: every order fills whole at its expected price, at the market
        time it was placed."""
        for order in orders:
            filled = apply_fill(state, paper_fill(order, order.created_at), order.created_at)
            self.events.extend(filled.events)
            state = filled.state
        self._store(state)

    def _store(self, state: CampaignState) -> None:
        """Keep ``state`` (which holds every price its campaign took) as the campaign's."""
        campaign_id = state.campaign_id
        self._open.keep(self._states.get(campaign_id), state)
        self._states[campaign_id] = state
        self.trading.stored(state, self._open.realized_pnl)
        if state.exists and not state.is_closed:
            self._levels[campaign_id] = price_levels(state, self.policy)
        else:
            self._levels.pop(campaign_id, None)

    # --- the portfolio over time -----------------------------------------------------------

    def unrealized_pnl(self) -> MoneyValue:
        return self._open.unrealized_pnl(self.marks)

    def snapshot(self, at: datetime, after: Literal["start", "bars", "signals"]) -> None:
        realized, unrealized = self.realized_pnl(), self.unrealized_pnl()
        self.snapshots.append(
            Snapshot(
                at=at,
                after=after,
                equity=self.policy.starting_equity + realized + unrealized,
                realized_pnl=realized,
                unrealized_pnl=unrealized,
                heat_pct=self.portfolio().heat_pct() or ZERO,  # 0, not 0E-8
            )
        )

    # --- a whole run -----------------------------------------------------------------------

    def play(self, timeline: Timeline, progress: Progress | None = None) -> BacktestRun:
        """Every step of ``timeline`` in order; ``progress`` hears of the bars played."""
        if timeline.steps and not self.snapshots:
            self.snapshot(timeline.steps[0].at, "start")
        played = 0
        for step in timeline.steps:
            if isinstance(step, Decision):
                self.decide(step.signals, step.at)
            else:
                self.take_bars(step)
                played += len(step.updates)
                if progress is not None:
                    progress(played)
        return self.result()

    def result(self) -> BacktestRun:
        self._record_quiet()
        return BacktestRun(
            policy=self.policy,
            states=dict(self.states),
            plans=tuple(self.plans),
            events=tuple(self.events),
            snapshots=tuple(self.snapshots),
            marks=dict(self.marks),
        )


def run_backtest(
    timeline: Timeline, policy: Policy = DEFAULT_POLICY, progress: Progress | None = None
) -> BacktestRun:
    """Play ``timeline`` from nothing with ``policy`` (its starting equity included), its bad
    prints screened out first as the live intake screens them (backtest/bar_screen.py)."""
    screened = screen_timeline(timeline, policy.bad_print_band_pct)
    run = Backtest(policy).play(screened.timeline, progress)
    return replace(run, bad_prints=screened.dropped) if screened.dropped else run
