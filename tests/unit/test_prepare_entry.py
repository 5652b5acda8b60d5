"""How far an entry gets before the portfolio is asked: the workflow and the activity that
reserves a run's first entry both decide on this, so they can never disagree about whether to
reserve."""

from decimal import Decimal

from campaign_engine.domain.allocation import Allocation
from campaign_engine.domain.campaign import prepare_entry
from campaign_engine.domain.entry import Rejection
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from tests.support.builders import Book, signal


def test_a_known_signal_gets_its_first_plan_and_asks_nothing() -> None:
    book, spring = Book(), signal(Pattern.SPRING)
    first = book.submit(spring)
    _, prepared = prepare_entry(book.state, spring, book.policy)
    assert isinstance(prepared, AllocationPlan)
    assert prepared == first


def test_a_rejection_by_rules_1_to_8_asks_nothing() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    _, prepared = prepare_entry(book.state, signal(Pattern.SPRING), book.policy)
    assert isinstance(prepared, Rejection)
    assert prepared.code is RejectionCode.DUPLICATE_PATTERN


def test_an_allowed_entry_asks_for_its_bmad_allocation() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    state, prepared = prepare_entry(book.state, signal(Pattern.SOS), book.policy)
    assert state is book.state
    assert isinstance(prepared, Allocation)
    assert (prepared.weight, prepared.risk_pct) == (Decimal("0.30"), Decimal("1.0"))


def test_no_campaign_yet_is_decided_against_a_blank_one_for_the_signals_range() -> None:
    spring = signal(Pattern.SPRING)
    state, prepared = prepare_entry(None, spring, Book().policy)
    assert not state.exists
    assert state.trading_range == spring.trading_range
    assert isinstance(prepared, Allocation)
