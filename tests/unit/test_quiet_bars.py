"""Quiet bars: ``is_quiet`` says a price changes nothing exactly when ``on_price`` changes
nothing but the last price, and a backtest that skips the quiet bars ends exactly as one that
evaluates every bar (states, decisions, events, the portfolio over time)."""

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_engine.backtest.engine import Backtest, BacktestRun
from campaign_engine.backtest.sources import scenario_timeline
from campaign_engine.backtest.timeline import Bars, Decision, Step, Timeline
from campaign_engine.domain.campaign import apply_fill, decide_entry, is_stale, on_price
from campaign_engine.domain.campaign.quiet_bars import LastPrice, is_quiet, price_levels
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import LONG_SEQUENCE, Pattern
from campaign_engine.scenarios import load_scenario
from campaign_engine.scenarios.random_scenarios import random_scenario
from campaign_engine.testing.builders import T0, Book, D, signal, trading_range

cents = st.integers(min_value=14_550, max_value=15_950).map(lambda n: D(n) / 100)


@st.composite
def prices(draw: st.DrawFn, minutes: st.SearchStrategy[int]) -> PriceUpdate:
    """A tick or a bar of AAPL at T0 + ``minutes``, maybe with a sequence number."""
    at = T0 + timedelta(minutes=draw(minutes))
    sequence = draw(st.none() | st.integers(min_value=0, max_value=6))
    if draw(st.booleans()):
        return PriceUpdate(symbol="AAPL", as_of=at, price=draw(cents), sequence=sequence)
    low, a, b, high = sorted(draw(st.lists(cents, min_size=4, max_size=4)))
    o, c = (a, b) if draw(st.booleans()) else (b, a)
    return PriceUpdate(
        symbol="AAPL", as_of=at, open=o, high=high, low=low, close=c, sequence=sequence
    )


@st.composite
def priced_campaigns(draw: st.DrawFn) -> tuple[CampaignState, PriceUpdate]:
    """A campaign some of whose entries filled (in full, in part, or not yet) and that has
    taken a few prices (targets reached, stops trailed, perhaps closed); and a price after
    them (its sequence number may still be stale)."""
    spring_low = draw(st.sampled_from([None, "146.00"]))
    book = Book(
        state=CampaignState.for_range(trading_range(spring_low=spring_low)), fill_orders=False
    )
    minute = 0
    patterns = draw(st.lists(st.sampled_from(LONG_SEQUENCE), min_size=1, max_size=3, unique=True))
    for pattern in sorted(patterns, key=LONG_SEQUENCE.index):
        minute += draw(st.integers(min_value=1, max_value=90))
        entry = signal(pattern, at=T0 + timedelta(minutes=minute))
        outcome = book.carry_out(
            decide_entry(book.state, entry, book.portfolio(), book.policy, entry.generated_at)
        )
        for order in outcome.orders:
            fill = paper_fill(order, order.created_at)
            part = draw(st.sampled_from(["all", "half", "none"]))
            if part == "half":
                fill = fill.model_copy(update={"quantity": (fill.quantity / 2).to_integral()})
            if part != "none" and fill.quantity > 0:
                book.state = apply_fill(book.state, fill, fill.filled_at).state
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        minute += draw(st.integers(min_value=1, max_value=120))
        update = draw(prices(st.just(minute)))
        outcome = on_price(book.state, update, DEFAULT_POLICY, update.as_of, "warm-up")
        book.state = outcome.state
        for order in outcome.orders:  # exits fill at once
            filled = apply_fill(book.state, paper_fill(order, order.created_at), order.created_at)
            book.state = filled.state
    return book.state, draw(prices(st.integers(min_value=minute + 1, max_value=minute + 400)))


@settings(max_examples=500, deadline=None)
@given(priced=priced_campaigns())
def test_a_price_is_quiet_exactly_when_on_price_only_records_it(
    priced: tuple[CampaignState, PriceUpdate],
) -> None:
    state, update = priced
    if not state.exists or state.is_closed or is_stale(state, update):
        return  # a player never asks: the campaign is not open, or on_price ignores the price
    outcome = on_price(state, update, DEFAULT_POLICY, update.as_of, "c")
    recorded = LastPrice.after(state, update).recorded(state)
    unchanged = outcome.state == recorded and not (
        outcome.events or outcome.orders or outcome.cancellations
    )
    assert is_quiet(price_levels(state, DEFAULT_POLICY), update) == unchanged
    assert recorded == replace(
        state,
        last_price=update.last,
        last_price_at=update.as_of,
        last_sequence=update.sequence if update.sequence is not None else state.last_sequence,
    )


def _both_ways(timeline: Timeline) -> tuple[BacktestRun, BacktestRun]:
    every_bar = Backtest(DEFAULT_POLICY, skip_quiet_bars=False).play(timeline)
    quiet_skipped = Backtest(DEFAULT_POLICY).play(timeline)
    return every_bar, quiet_skipped


@pytest.mark.parametrize("seed", [None, *range(1, 21)], ids=lambda s: f"seed-{s or 'demo'}")
def test_skipping_quiet_bars_plays_every_scenario_the_same(seed: int | None) -> None:
    scenario = load_scenario() if seed is None else random_scenario(seed)
    every_bar, quiet_skipped = _both_ways(scenario_timeline(scenario))
    assert quiet_skipped == every_bar
    assert quiet_skipped.events  # something happened


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(st.sampled_from(LONG_SEQUENCE), min_size=1, max_size=3, unique=True),
    updates=st.lists(prices(st.integers(min_value=-30, max_value=600)), max_size=40),
    read_at=st.integers(min_value=0, max_value=40),
)
def test_skipping_quiet_bars_is_exact_for_any_prices(
    entries: list[Pattern], updates: list[PriceUpdate], read_at: int
) -> None:
    """Prices out of order, repeated, with and without sequence numbers: the same play; and
    the states read half-way show every price taken so far."""
    spring = trading_range(spring_low="146.00")
    steps: list[Step] = [
        Decision(T0 + timedelta(minutes=n), (signal(p, rng=spring, at=T0 + timedelta(minutes=n)),))
        for n, p in enumerate(sorted(entries, key=LONG_SEQUENCE.index))
    ]
    steps += [Bars(u.as_of, (u,)) for u in updates]
    every_bar, quiet_skipped = _both_ways(Timeline(tuple(steps), "random"))
    assert quiet_skipped == every_bar

    played, reference = Backtest(DEFAULT_POLICY), Backtest(DEFAULT_POLICY, skip_quiet_bars=False)
    for n, step in enumerate(steps):
        for engine in (played, reference):
            if isinstance(step, Decision):
                engine.decide(step.signals, step.at)
            else:
                engine.take_bars(step)
        if n == read_at:
            assert played.states == reference.states
    assert played.result() == reference.result()
