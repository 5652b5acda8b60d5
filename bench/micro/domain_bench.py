"""Throughput of the pure domain on one core: entry decisions/s and price evaluations/s.

    .venv/bin/python -m bench.micro.domain_bench [--seconds 3]

Each figure is the best of several rounds (the least disturbed by the rest of the machine).
The entry mix is a campaign's life: the creating SPRING, a later SOS, the last LPS and a
rejected duplicate, in turn, against a portfolio of 20 other campaigns.
"""

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from bench.record import Anchor, Figure, add_notes_argument, record
from campaign_engine.domain.campaign import (
    apply_fill,
    decide_entry,
    exposure_of,
    on_price,
    prepare_entry,
)
from campaign_engine.domain.entry import admit_entry
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.orders import paper_fill
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import Pattern

D = Decimal
T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)
RANGE = TradingRange(
    id=UUID(int=1),
    symbol="AAPL",
    timeframe="1h",
    start_time=T0,
    creek=D("145.00"),
    ice=D("150.00"),
    jump=D("156.00"),
)
OTHERS = tuple(
    Exposure(campaign_id=f"S{i}-2024-01-01", symbol=f"S{i}", open_risk=MoneyValue(D(400)))
    for i in range(20)
)
PORTFOLIO = PortfolioView(equity=MoneyValue(D(100000)), exposures=OTHERS)


def _signal(pattern: Pattern, entry: str, stop: str, n: int) -> EntrySignal:
    return EntrySignal(
        signal_id=UUID(int=n),
        symbol="AAPL",
        timeframe="1h",
        trading_range=RANGE,
        pattern=pattern,
        entry_price=D(entry),
        stop_loss=D(stop),
        confidence=D(80),
        r_multiple=D(3),
        generated_at=T0,
    )


SPRING = _signal(Pattern.SPRING, "148.50", "147.00", 1)
SOS = _signal(Pattern.SOS, "150.25", "148.75", 2)
LPS = _signal(Pattern.LPS, "151.00", "149.50", 3)
DUPLICATE = _signal(Pattern.SPRING, "148.40", "147.00", 4)


def _filled(state: CampaignState, entry: EntrySignal) -> CampaignState:
    outcome = decide_entry(state, entry, PORTFOLIO, DEFAULT_POLICY, T0)
    state = outcome.state
    for order in outcome.orders:
        state = apply_fill(state, paper_fill(order, T0), T0).state
    return state


BLANK = CampaignState.for_range(RANGE)
AFTER_SPRING = _filled(BLANK, SPRING)
AFTER_SOS = _filled(AFTER_SPRING, SOS)
DECISIONS: tuple[tuple[CampaignState, EntrySignal], ...] = (
    (BLANK, SPRING),  # creates the campaign
    (AFTER_SPRING, SOS),  # a later entry
    (AFTER_SOS, LPS),  # the last entry
    (AFTER_SOS, DUPLICATE),  # a rejection
)
QUIET = [
    PriceUpdate(
        symbol="AAPL",
        as_of=T0 + timedelta(seconds=i),
        open=D("151.0"),
        high=D("151.6"),
        low=D("150.6"),
        close=D("151.2"),
    )
    for i in range(1, 1001)
]
LADDER = PriceUpdate(
    symbol="AAPL",
    as_of=T0 + timedelta(seconds=1),
    open=D("151.0"),
    high=D("156.5"),
    low=D("150.6"),
    close=D("156.2"),
)


def decisions(n: int) -> None:
    """The rules alone (rules 1-8, then the portfolio's admission), nothing applied."""
    for i in range(n):
        state, entry = DECISIONS[i & 3]
        request = prepare_entry(state, entry, DEFAULT_POLICY).admission_request
        if request is not None:
            admit_entry(PORTFOLIO, request)


def applied_decisions(n: int) -> None:
    """Decision plus its application: new state, position, order and events."""
    for i in range(n):
        state, entry = DECISIONS[i & 3]
        decide_entry(state, entry, PORTFOLIO, DEFAULT_POLICY, T0)


def quiet_prices(n: int) -> None:
    state = AFTER_SOS
    for i in range(n):
        state = on_price(state, QUIET[i % 1000], DEFAULT_POLICY, T0, "bench").state
        if i % 1000 == 999:
            state = AFTER_SOS


def crossing_prices(n: int) -> None:
    for _ in range(n):
        on_price(AFTER_SOS, LADDER, DEFAULT_POLICY, T0, "bench")


def raw_calls(n: int) -> None:
    """The raw anchor: calls of a Python function that does nothing, the interpreter's own
    speed on this machine in this run."""
    nothing = _nothing
    for _ in range(n):
        nothing()


def _nothing() -> None:
    return None


def rate(work: Callable[[int], None], seconds: float, rounds: int = 5) -> tuple[float, float]:
    """Operations a second (the best of ``rounds``) and microseconds of CPU per operation
    (over all rounds)."""
    n = 200
    while True:  # size a batch to about a tenth of the budget
        started = time.perf_counter()
        work(n)
        elapsed = time.perf_counter() - started
        if elapsed > seconds / 10:
            break
        n *= 2
    best = 0.0
    cpu_started = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        work(n)
        best = max(best, n / (time.perf_counter() - started))
    return best, 1e6 * (time.process_time() - cpu_started) / (n * rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="rough time per figure")
    add_notes_argument(parser)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    exposure_of(AFTER_SOS)  # warm imports
    print(
        f"campaign-engine domain benchmark, {platform.python_implementation()} "
        f"{sys.version.split()[0]} on {platform.machine()}, one core"
    )
    anchor_rate, _ = rate(raw_calls, args.seconds)
    anchor = Anchor("raw: no-op Python calls", anchor_rate, "calls/s")
    figures = {
        "entry decisions/s (rules 1-10, not applied)": rate(decisions, args.seconds),
        "entries decided and applied/s (state, order, events)": rate(
            applied_decisions, args.seconds
        ),
        "price evaluations/s (bar, no crossing, 3 positions)": rate(quiet_prices, args.seconds),
        "price evaluations/s (bar crossing targets)": rate(crossing_prices, args.seconds),
    }
    for name, (value, cpu) in figures.items():
        print(f"  {name:<55} {value:>10,.0f}  ({cpu:.1f} us CPU each)")
    print(f"  {anchor.name:<55} {anchor.value:>10,.0f}")
    goal = 50_000
    decided = next(iter(figures.values()))[0]
    print(
        f"  goal >= {goal:,} decisions/s: {'met' if decided >= goal else 'NOT met'} "
        f"({decided / goal:.2f}x)"
    )
    recorded = [Figure(n, v, "per second", cpu, anchor) for n, (v, cpu) in figures.items()]
    record("domain_bench", "micro", recorded, args.notes)


if __name__ == "__main__":
    main()
