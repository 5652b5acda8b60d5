"""Every rejection rule of SPEC section 3, in order; a rejection changes nothing."""

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

import pytest

from campaign_engine.domain.campaign import decide_entry, invalidate
from campaign_engine.domain.limits import Exposure
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.vocabulary import CampaignStatus, EventType, Pattern, RejectionCode
from campaign_engine.testing.builders import (
    T0,
    Book,
    as_money,
    empty_portfolio,
    signal,
    tick,
    trading_range,
)

D = Decimal
SPRING, SOS, LPS, UTAD = Pattern.SPRING, Pattern.SOS, Pattern.LPS, Pattern.UTAD


def _book_with(*patterns: Pattern) -> Book:
    book = Book()
    for pattern in patterns:
        assert book.submit(signal(pattern)).approved
    return book


def _assert_rejected(
    book: Book, entry_pattern: Pattern, code: RejectionCode, text: str, **kwargs: object
) -> None:
    before = book.state
    plan = book.submit(signal(entry_pattern, **kwargs))  # type: ignore[arg-type]
    assert not plan.approved
    assert plan.rejection_code is code
    assert plan.rejection_reason is not None and text in plan.rejection_reason
    assert (plan.shares, plan.risk_amount, plan.approved_risk_pct) == (D(0), D(0), None)
    # nothing changes but the remembered decision
    assert replace(book.state, plans=before.plans) == before
    assert book.events[-1].type is EventType.ALLOCATION_REJECTED


def test_utad_is_a_short_pattern() -> None:
    _assert_rejected(Book(), UTAD, RejectionCode.SHORT_NOT_SUPPORTED, "short campaigns")


def test_signal_for_another_campaign() -> None:
    other = trading_range(symbol="MSFT", range_id=UUID(int=7))
    _assert_rejected(
        _book_with(SPRING), SOS, RejectionCode.SIGNAL_MISMATCH, "MSFT-2024-10-15", rng=other
    )


def test_second_range_with_the_same_human_id() -> None:
    other = trading_range(range_id=UUID(int=99))
    _assert_rejected(
        _book_with(SPRING),
        SOS,
        RejectionCode.RANGE_CONFLICT,
        "campaign id already used by another range",
        rng=other,
    )


def test_no_level_above_entry_and_no_targets() -> None:
    _assert_rejected(
        Book(), SOS, RejectionCode.NO_TARGET, "must give targets", entry="163", stop="160"
    )


def test_closed_campaign() -> None:
    book = _book_with(SPRING)
    book.carry_out(invalidate(book.state, "range failed", T0, "op"))
    assert book.state.status is CampaignStatus.INVALIDATED
    _assert_rejected(book, SOS, RejectionCode.CAMPAIGN_CLOSED, "INVALIDATED")


def test_duplicate_pattern_taken_or_pending() -> None:
    book = Book(fill_orders=False)
    assert book.submit(signal(SPRING)).approved  # pending, not filled
    _assert_rejected(book, SPRING, RejectionCode.DUPLICATE_PATTERN, "SPRING already taken")


@pytest.mark.parametrize(
    ("taken", "late", "text"),
    [
        ((SOS,), SPRING, "SPRING cannot follow SOS"),
        ((LPS,), SOS, "SOS cannot follow LPS"),
        ((LPS,), SPRING, "SPRING cannot follow LPS"),
    ],
)
def test_out_of_sequence(taken: tuple[Pattern, ...], late: Pattern, text: str) -> None:
    _assert_rejected(_book_with(*taken), late, RejectionCode.OUT_OF_SEQUENCE, text)


def test_confidence_below_minimum() -> None:
    _assert_rejected(
        Book(), SPRING, RejectionCode.LOW_CONFIDENCE, "below the minimum 70", confidence=69
    )
    assert Book().submit(signal(SPRING, confidence=70)).approved


@pytest.mark.parametrize(("confidence", "approved"), [(72, False), (74, False), (75, True)])
def test_lps_sole_entry_confidence_gate(confidence: int, approved: bool) -> None:
    plan = Book().submit(signal(LPS, confidence=confidence))
    assert plan.approved is approved
    if approved:
        assert (plan.weight, plan.approved_risk_pct) == (D("1.00"), D("2.0"))
    else:
        assert plan.rejection_code is RejectionCode.LOW_CONFIDENCE
        assert plan.rejection_reason is not None and "sole entry" in plan.rejection_reason


def test_lps_after_a_spring_needs_only_the_normal_minimum() -> None:
    assert _book_with(SPRING).submit(signal(LPS, confidence=72)).approved


def test_campaign_budget() -> None:
    # Each entry's risk is capped by its BMAD target, so the budget binds when the budget
    # shrinks under a running campaign (a policy change): 0.4995% taken + 0.18% > 0.6%.
    book = _book_with(SPRING)
    book.policy = Policy(campaign_max_risk_pct=D("0.6"))
    _assert_rejected(book, SOS, RejectionCode.CAMPAIGN_BUDGET, "exceeds remaining budget")


def test_portfolio_heat() -> None:
    hot = Exposure(campaign_id="MSFT-2024-10-01", symbol="MSFT", open_risk=as_money("9600"))
    _assert_rejected(
        Book(others=(hot,)), SPRING, RejectionCode.PORTFOLIO_HEAT, "would exceed the 10.0% limit"
    )
    just_fits = Exposure(campaign_id="MSFT-2024-10-01", symbol="MSFT", open_risk=as_money("9500"))
    plan = Book(others=(just_fits,)).submit(signal(SPRING))
    assert plan.approved and plan.heat_after_pct == D("9.9995")


def test_correlated_risk() -> None:
    policy = Policy(correlation_groups={"AAPL": "big-tech", "MSFT": "big-tech"})
    related = Exposure(campaign_id="MSFT-2024-10-01", symbol="MSFT", reserved_risk=as_money("5600"))
    _assert_rejected(
        Book(policy=policy, others=(related,)),
        SPRING,
        RejectionCode.CORRELATED_RISK,
        "group big-tech",
    )
    # Without the grouping each symbol is its own group and the same entry fits.
    assert Book(others=(related,)).submit(signal(SPRING)).approved


def test_position_too_small() -> None:
    _assert_rejected(
        Book(equity=as_money("100")), SPRING, RejectionCode.POSITION_TOO_SMALL, "position too small"
    )


def test_the_first_failing_rule_decides() -> None:
    # duplicate (rule 3) and low confidence (rule 5) at once: the duplicate is reported
    _assert_rejected(
        _book_with(SPRING), SPRING, RejectionCode.DUPLICATE_PATTERN, "already", confidence=10
    )
    # UTAD (rule 1) beats everything
    _assert_rejected(
        _book_with(SPRING), UTAD, RejectionCode.SHORT_NOT_SUPPORTED, "short", confidence=10
    )


def test_rejected_first_signal_leaves_no_campaign_but_a_recorded_plan() -> None:
    book = Book()
    plan = book.submit(signal(SPRING, confidence=50))
    assert not plan.approved
    assert not book.state.exists
    assert book.state.version == 0
    assert book.state.plans == (plan,)
    assert book.orders == []


def test_same_signal_id_returns_the_first_decision_without_effects() -> None:
    book = Book()
    entry = signal(SPRING)
    first = book.submit(entry)
    state = book.state
    again = decide_entry(state, entry, book.portfolio(), DEFAULT_POLICY, T0)
    assert again.plan == first
    assert again.state is state
    assert not again.changed
    # also for a rejected one, even though it would now be approved
    rejected = signal(SOS, confidence=10)
    plan = book.submit(rejected)
    retry = decide_entry(book.state, rejected, empty_portfolio(), DEFAULT_POLICY, T0)
    assert retry.plan == plan and not retry.plan.approved


def test_first_signal_for_a_new_range_redefines_a_campaign_never_created() -> None:
    book = Book()
    assert not book.submit(signal(SPRING, confidence=10)).approved
    other = trading_range(range_id=UUID(int=42))
    plan = book.submit(signal(SPRING, rng=other))
    assert plan.approved
    assert book.state.trading_range.id == other.id


def test_stop_trailing_releases_heat() -> None:
    book = _book_with(SPRING)
    assert book.state.open_risk == D("499.50")
    book.price(tick("150.00", 5))  # t1: 166 sold, stop to breakeven
    assert book.state.open_risk == 0
