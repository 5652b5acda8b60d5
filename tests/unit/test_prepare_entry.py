"""How far an entry gets before the portfolio is asked: the workflow and the activity that
reserves a run's first entry both prepare on this, so they can never disagree about whether to
reserve, nor about what."""

from decimal import Decimal

import pytest

from campaign_engine.domain.allocation import Allocation
from campaign_engine.domain.campaign import conclude_entry, prepare_entry
from campaign_engine.domain.entry import Rejection
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from campaign_engine.testing.builders import T0, Book, signal


def test_a_known_signal_gets_its_first_plan_and_asks_nothing() -> None:
    book, spring = Book(), signal(Pattern.SPRING)
    first = book.submit(spring)
    entry = prepare_entry(book.state, spring, book.policy)
    assert entry.decided == first and entry.admission_request is None
    again = conclude_entry(entry, None, T0)
    assert again.plan == first and again.state is book.state and not again.changed


def test_a_rejection_by_rules_1_to_8_asks_nothing() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    entry = prepare_entry(book.state, signal(Pattern.SPRING), book.policy)
    assert isinstance(entry.decided, Rejection)
    assert entry.decided.code is RejectionCode.DUPLICATE_PATTERN
    assert entry.admission_request is None
    outcome = conclude_entry(entry, None, T0)
    assert outcome.plan is not None and not outcome.plan.approved
    assert outcome.plan.heat_after_pct is None  # the portfolio was not asked


def test_an_allowed_entry_asks_for_its_bmad_allocation_with_its_own_exposure() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SPRING))
    sos = signal(Pattern.SOS)
    entry = prepare_entry(book.state, sos, book.policy)
    assert entry.state is book.state
    assert isinstance(entry.decided, Allocation)
    assert (entry.decided.weight, entry.decided.risk_pct) == (Decimal("0.30"), Decimal("1.0"))
    request = entry.admission_request
    assert request is not None
    assert (request.signal_id, request.symbol, request.risk_pct) == (
        sos.signal_id,
        "AAPL",
        Decimal("1.0"),
    )
    assert (request.entry_price, request.stop_loss) == (sos.entry_price, sos.stop_loss)
    # The Spring's order has not filled: its risk is reserved, not open.
    assert (request.open_risk, request.reserved_risk) == (Decimal(0), Decimal("499.50"))
    assert request.version == book.state.version


def test_no_campaign_yet_is_decided_against_a_blank_one_for_the_signals_range() -> None:
    spring = signal(Pattern.SPRING)
    entry = prepare_entry(None, spring, Book().policy)
    assert not entry.state.exists
    assert entry.state.trading_range == spring.trading_range
    assert isinstance(entry.decided, Allocation)


def test_an_allocation_cannot_be_concluded_without_the_portfolios_admission() -> None:
    entry = prepare_entry(None, signal(Pattern.SPRING), Book().policy)
    with pytest.raises(ValueError, match="admission"):
        conclude_entry(entry, None, T0)
