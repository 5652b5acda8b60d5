"""Invariants that must hold for every input, not only the worked examples."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_engine.domain.campaign import decide_batch
from campaign_engine.domain.ledger import weighted_avg_entry
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.priority import prioritize
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern, PositionStatus
from campaign_engine.testing.builders import T0, Book, as_money, signal, trading_range

D = Decimal
cents = st.integers(min_value=1, max_value=10**6).map(lambda c: D(c) / 100)


@st.composite
def entry_signals(draw: st.DrawFn, n: int = 0, symbol: str = "AAPL") -> EntrySignal:
    pattern = draw(st.sampled_from([Pattern.SPRING, Pattern.SOS, Pattern.LPS]))
    entry = D(draw(st.integers(14000, 15800))) / 100
    stop = entry - D(draw(st.integers(5, 800))) / 100
    requested = draw(st.none() | st.integers(1, 400).map(lambda r: str(D(r) / 100)))
    rng = trading_range(symbol=symbol, range_id=UUID(int=abs(hash(symbol)) % 10**9))
    return signal(
        pattern,
        entry=entry,
        stop=stop,
        confidence=draw(st.integers(60, 100)),
        r_multiple=str(D(draw(st.integers(0, 80))) / 10),
        requested_risk_pct=requested,
        rng=rng,
        signal_id=UUID(int=draw(st.integers(1, 2**64))),
        at=T0 + timedelta(seconds=n),
    )


@st.composite
def bars(draw: st.DrawFn, start: int = 1) -> list[PriceUpdate]:
    """A random walk of bars around the AAPL range, wide enough to hit stops and targets."""
    price = D(draw(st.integers(14500, 15500))) / 100
    updates = []
    for i in range(draw(st.integers(1, 25))):
        o = price
        c = max(D("100"), o + D(draw(st.integers(-400, 400))) / 100)
        h = max(o, c) + D(draw(st.integers(0, 300))) / 100
        low = max(D("1"), min(o, c) - D(draw(st.integers(0, 300))) / 100)
        updates.append(
            PriceUpdate(
                symbol="AAPL",
                as_of=T0 + timedelta(minutes=start + i),
                open=o,
                high=h,
                low=low,
                close=c,
            )
        )
        price = c
    return updates


Steps = list[EntrySignal | list[PriceUpdate]]
scenario: st.SearchStrategy[Steps] = st.lists(
    st.one_of(entry_signals(), bars()), min_size=1, max_size=8
)


def _play(steps: Steps, policy: Policy = DEFAULT_POLICY) -> Book:
    book = Book(policy=policy)
    minute = 0
    for step in steps:
        if isinstance(step, EntrySignal):
            book.submit(step)
        else:
            for update in step:  # keep time moving forward across groups of bars
                minute += 1
                book.price(update.model_copy(update={"as_of": T0 + timedelta(minutes=minute)}))
    return book


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_campaign_allocation_never_exceeds_the_budget(steps: Steps) -> None:
    book = _play(steps)
    assert book.state.total_allocation <= DEFAULT_POLICY.campaign_max_risk_pct
    for plan in book.state.plans:
        if plan.approved:
            assert plan.actual_risk_pct <= DEFAULT_POLICY.per_trade_max_risk_pct
            assert plan.remaining_budget_pct >= 0


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_exits_never_oversell_and_sum_to_the_original_size(steps: Steps) -> None:
    book = _play(steps)
    for position in book.state.positions:
        sold = sum((e.quantity for e in position.exits), D(0))
        assert sold <= position.shares
        assert position.open_shares == position.shares - sold
        assert position.open_shares >= 0
        if position.status is PositionStatus.CLOSED:
            assert sold == position.shares
        legs = [e.purpose for e in position.exits]
        assert len(legs) == len(set(legs)), "a leg was executed twice"


@settings(max_examples=150, deadline=None)
@given(entry_signals(), bars())
def test_stops_only_move_up(entry: EntrySignal, updates: list[PriceUpdate]) -> None:
    book = Book()
    book.submit(entry)
    stops = [p.stop for p in book.state.positions]
    for update in updates:
        book.price(update)
        now = [p.stop for p in book.state.positions]
        assert all(after >= before for before, after in zip(stops, now, strict=True))
        stops = now


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_weighted_average_entry_lies_within_the_entries(steps: Steps) -> None:
    book = _play(steps)
    held = [p for p in book.state.positions if p.open_shares > 0]
    average = weighted_avg_entry(held)
    if held:
        assert average is not None
        assert min(p.entry_price for p in held) <= average <= max(p.entry_price for p in held)
    else:
        assert average is None


@settings(max_examples=100, deadline=None)
@given(scenario)
def test_same_input_same_output(steps: Steps) -> None:
    first, second = _play(steps), _play(steps)
    assert first.state == second.state
    assert first.events == second.events
    assert first.orders == second.orders


SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMD", "GOOG", "META"]


@st.composite
def competing_batches(draw: st.DrawFn) -> tuple[list[EntrySignal], list[Exposure]]:
    signals = [
        draw(entry_signals(n=i, symbol=draw(st.sampled_from(SYMBOLS))))
        for i in range(draw(st.integers(1, 12)))
    ]
    exposures = [
        Exposure(
            campaign_id=f"OLD{i}-2024-01-01",
            symbol=draw(st.sampled_from(SYMBOLS)),
            open_risk=as_money(draw(st.integers(0, 3000))),
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    return signals, exposures


GROUPED = Policy(
    correlation_groups={"AAPL": "tech", "MSFT": "tech", "NVDA": "chips", "AMD": "chips"}
)


@settings(max_examples=200, deadline=None)
@given(competing_batches())
def test_heat_and_groups_hold_after_every_approval(
    batch: tuple[list[EntrySignal], list[Exposure]],
) -> None:
    signals, exposures = batch
    start = PortfolioView(equity=as_money(100000), exposures=tuple(exposures))
    outcome = decide_batch({}, signals, start, GROUPED, T0)
    # The order the client submits a batch in, whatever order the signals came in.
    decided_ids = [o.plan.signal_id for o in outcome.outcomes if o.plan]
    assert decided_ids == [s.signal_id for s in prioritize(signals)]
    view = start
    for decided in outcome.outcomes:
        assert decided.plan is not None
        if not decided.plan.approved:
            continue
        view = view.with_exposure(
            Exposure(
                campaign_id=decided.state.campaign_id,
                symbol=decided.state.symbol,
                reserved_risk=decided.state.reserved_risk,
            )
        )
        # Even a portfolio that starts over a limit never gets an approval that leaves it over.
        assert view.heat_pct() <= GROUPED.portfolio_max_heat_pct
        group = GROUPED.correlation_group(decided.state.symbol)
        assert view.group_risk_pct(group, GROUPED) <= GROUPED.correlated_max_risk_pct
    assert outcome.portfolio is not None
    assert outcome.portfolio.heat_pct() == view.heat_pct()


def test_a_batch_is_decided_in_priority_order_so_heat_goes_to_the_best() -> None:
    """Heat is the binding limit: only the best of three competing entries fits."""
    hot = Exposure(campaign_id="OLD-2024-01-01", symbol="XOM", open_risk=as_money("9400"))
    weak = signal(
        Pattern.SOS,
        confidence=80,
        r_multiple="2.8",
        rng=trading_range(symbol="MSFT", range_id=UUID(int=2)),
    )
    strong = signal(
        Pattern.SPRING,
        confidence=75,
        r_multiple="3.0",
        rng=trading_range(symbol="NVDA", range_id=UUID(int=3)),
    )
    view = PortfolioView(equity=as_money(100000), exposures=(hot,))
    result = decide_batch({}, [weak, strong], view, DEFAULT_POLICY, T0)
    plans = [o.plan for o in result.outcomes if o.plan]
    assert [p.signal_id for p in plans] == [strong.signal_id, weak.signal_id]
    assert [p.approved for p in plans] == [True, False]
    assert plans[1].rejection_reason is not None and "heat" in plans[1].rejection_reason
    assert OrderPurpose.ENTRY in {o.purpose for r in result.outcomes for o in r.orders}
