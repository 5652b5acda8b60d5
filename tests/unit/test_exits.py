"""Exits (SPEC section 5): targets, the ladder, trailing stops, invalidation, check order,
gap-aware fills."""

from datetime import timedelta
from decimal import Decimal

import pytest

from campaign_engine.domain.campaign import invalidate, on_price
from campaign_engine.domain.errors import CampaignClosed, NoCampaign, WrongSymbol
from campaign_engine.domain.exits import default_targets
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    EventType,
    OrderPurpose,
    Pattern,
    PositionStatus,
)
from campaign_engine.testing.builders import (
    T0,
    Book,
    as_money,
    as_price,
    bar,
    signal,
    tick,
    trading_range,
)

D = Decimal
SPRING, SOS, LPS = Pattern.SPRING, Pattern.SOS, Pattern.LPS


@pytest.mark.parametrize(
    ("entry", "targets"),
    [
        ("148.50", ["150.00", "156.00", "159.00"]),
        ("150.25", ["156.00", "159.00", "162.00"]),
        ("157.00", ["159.00", "162.00"]),
        ("161.00", ["162.00"]),
        ("162.00", []),
    ],
)
def test_default_targets(entry: str, targets: list[str]) -> None:
    assert list(default_targets(as_price(entry), trading_range())) == [D(t) for t in targets]


def test_signal_targets_override_the_defaults() -> None:
    book = Book()
    book.submit(signal(SPRING, targets=("149.50", "151.00", "153.00")))
    assert book.position(SPRING).targets == (D("149.50"), D("151.00"), D("153.00"))


def _sells(book: Book) -> list[tuple[OrderPurpose, Decimal, Decimal]]:
    return [(o.purpose, o.quantity, o.expected_price) for o in book.orders if o.side == "SELL"]


def test_spring_ladder_166_99_68_with_trailing_stops() -> None:
    book = Book()
    book.submit(signal(SPRING))
    book.price(tick("150.00", 1))
    position = book.position(SPRING)
    assert (position.open_shares, position.stop) == (D(167), D("148.50"))  # breakeven
    book.price(tick("156.00", 2))
    assert (book.position(SPRING).open_shares, book.position(SPRING).stop) == (D(68), D("150.00"))
    book.price(tick("159.00", 3))
    assert _sells(book) == [
        (OrderPurpose.TARGET_1, D(166), D("150.00")),
        (OrderPurpose.TARGET_2, D(99), D("156.00")),
        (OrderPurpose.TARGET_3, D(68), D("159.00")),
    ]
    spring = book.position(SPRING)
    assert spring.status is PositionStatus.CLOSED
    assert spring.realized_pnl == D(166) * D("1.50") + D(99) * D("7.50") + D(68) * D("10.50")
    assert book.state.status is CampaignStatus.COMPLETED
    assert book.events[-1].type is EventType.CAMPAIGN_COMPLETED


def test_rebalanced_sos_ladder_666_399_268_in_one_bar() -> None:
    book = Book()
    book.submit(signal(SOS))  # Spring skipped: 1,333 shares
    book.price(bar("151.00", "162.50", "150.90", "162.00", 1))  # all three targets at once
    assert [(p, q) for p, q, _ in _sells(book)] == [
        (OrderPurpose.TARGET_1, D(666)),
        (OrderPurpose.TARGET_2, D(399)),
        (OrderPurpose.TARGET_3, D(268)),
    ]
    assert sum(q for _, q, _ in _sells(book)) == D(1333)
    assert book.state.status is CampaignStatus.COMPLETED


def test_stops_only_move_up_and_a_trailed_stop_exits_the_rest() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(tick("156.00", 1))  # t1: 666 sold, stop 148.75 -> 150.25
    book.price(tick("159.00", 2))  # t2: 399 sold, stop -> 156.00
    assert book.position(SOS).stop == D("156.00")
    book.price(tick("155.50", 3))  # back through the trailed stop
    assert _sells(book)[-1] == (OrderPurpose.STOP, D(268), D("155.50"))
    assert book.state.status is CampaignStatus.COMPLETED


def test_stop_out_at_the_level_and_gap_through_at_the_open() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(bar("149.00", "149.50", "148.70", "148.90", 1))
    assert _sells(book) == [(OrderPurpose.STOP, D(1333), D("148.75"))]
    assert book.state.status is CampaignStatus.COMPLETED  # a stop-out is not an invalidation

    gapped = Book()
    gapped.submit(signal(SOS))
    gapped.price(bar("148.00", "148.50", "147.50", "148.20", 1))
    assert _sells(gapped) == [(OrderPurpose.STOP, D(1333), D("148.00"))]
    assert gapped.position(SOS).realized_pnl == D(1333) * D("-2.25")


def test_target_gap_above_fills_at_the_open() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(bar("157.00", "157.50", "156.50", "157.20", 1))
    assert _sells(book) == [(OrderPurpose.TARGET_1, D(666), D("157.00"))]
    order = book.orders[-1]
    assert order.limit_price == D("156.00")


def test_a_bar_touching_stop_and_target_is_a_stop() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(bar("150.50", "156.50", "148.70", "150.00", 1))
    assert _sells(book) == [(OrderPurpose.STOP, D(1333), D("148.75"))]


def test_invalidation_by_spring_low_exits_everything_at_once() -> None:
    book = Book(state=CampaignState.for_range(trading_range(spring_low="146.80")))
    book.submit(signal(SPRING))
    book.submit(signal(SOS))
    book.price(bar("147.50", "147.60", "146.50", "146.60", 1))
    assert _sells(book) == [
        (OrderPurpose.INVALIDATION, D(333), D("146.80")),
        (OrderPurpose.INVALIDATION, D(666), D("146.80")),
    ]
    assert book.state.status is CampaignStatus.INVALIDATED
    assert book.state.invalidation_reason is not None
    assert "146.80" in book.state.invalidation_reason
    assert all(p.status is PositionStatus.CLOSED for p in book.state.positions)
    assert EventType.CAMPAIGN_INVALIDATED in {e.type for e in book.events}
    assert EventType.CAMPAIGN_COMPLETED not in {e.type for e in book.events}


def test_invalidation_level_is_the_spring_stop_and_breach_is_strictly_below() -> None:
    book = Book()
    book.submit(signal(SPRING))  # stop 147.00 is the level
    book.price(tick("147.00", 1))  # at the level: an ordinary stop-out
    assert book.state.status is CampaignStatus.COMPLETED

    below = Book()
    below.submit(signal(SPRING))
    below.price(tick("146.99", 1))
    assert below.state.status is CampaignStatus.INVALIDATED
    assert _sells(below) == [(OrderPurpose.INVALIDATION, D(333), D("146.99"))]


def test_gap_through_the_invalidation_level_fills_at_the_open() -> None:
    book = Book()
    book.submit(signal(SPRING))
    book.price(bar("146.00", "146.50", "145.50", "146.20", 1))
    assert _sells(book) == [(OrderPurpose.INVALIDATION, D(333), D("146.00"))]


def test_without_spring_or_spring_low_there_is_no_invalidation_level() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(tick("140.00", 1))
    assert book.state.status is CampaignStatus.COMPLETED
    assert _sells(book) == [(OrderPurpose.STOP, D(1333), D("140.00"))]


def test_stale_updates_are_ignored() -> None:
    book = Book()
    book.submit(signal(SOS))
    book.price(tick("151.00", 10))
    state = book.state
    outcome = on_price(state, tick("140.00", 10), DEFAULT_POLICY, T0, "late")
    assert outcome.state is state and not outcome.changed
    older = on_price(state, tick("140.00", 5), DEFAULT_POLICY, T0, "older")
    assert older.state is state


def test_a_bar_not_later_than_the_opening_signal_is_not_the_campaigns() -> None:
    book = Book()
    book.submit(signal(SOS, at=T0 + timedelta(minutes=30)))
    state = book.state
    assert state.created_at == T0 + timedelta(minutes=30)  # market time, not a clock's
    for minutes in (10, 30):  # before the signal, and at its very instant
        outcome = on_price(state, tick("140.00", minutes), DEFAULT_POLICY, T0, "early")
        assert outcome.state is state and not outcome.changed
    later = on_price(state, tick("140.00", 31), DEFAULT_POLICY, T0, "later")
    assert [o.purpose for o in later.orders] == [OrderPurpose.STOP]  # through the stop


def test_sequence_numbers_guard_against_reordering() -> None:
    book = Book()
    book.submit(signal(SOS))
    first = tick("151.00", 1).model_copy(update={"sequence": 7})
    book.price(first)
    replayed = tick("140.00", 2).model_copy(update={"sequence": 7})
    assert not on_price(book.state, replayed, DEFAULT_POLICY, T0, "x").changed


def test_an_update_for_another_symbol_is_refused() -> None:
    book = Book()
    book.submit(signal(SOS))
    with pytest.raises(WrongSymbol, match="MSFT"):
        on_price(book.state, tick("1", 1, symbol="MSFT"), DEFAULT_POLICY, T0, "x")


def test_operator_invalidation_exits_at_last_price_or_entry() -> None:
    book = Book()
    book.submit(signal(SPRING))
    book.submit(signal(SOS))
    book.carry_out(invalidate(book.state, "operator: earnings", T0, "op-1"))
    assert [(q, p) for _, q, p in _sells(book)] == [
        (D(333), D("148.50")),
        (D(666), D("150.25")),
    ]
    assert book.state.invalidation_reason == "operator: earnings"
    with pytest.raises(CampaignClosed):
        invalidate(book.state, "again", T0, "op-2")

    seen = Book()
    seen.submit(signal(SOS))
    seen.price(tick("152.10", 1))
    seen.carry_out(invalidate(seen.state, "range failed upstream", T0, "orch"))
    assert _sells(seen)[-1] == (OrderPurpose.INVALIDATION, D(1333), D("152.10"))


def test_invalidating_an_unknown_campaign_is_refused() -> None:
    with pytest.raises(NoCampaign):
        invalidate(CampaignState.for_range(trading_range()), "x", T0, "op")


def test_invalidation_cancels_unfilled_entries() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    outcome = book.carry_out(invalidate(book.state, "operator", T0, "op"))
    assert outcome.cancellations == ("AAPL-2024-10-15:SPRING:ENTRY",)
    assert outcome.orders == ()
    assert book.state.reserved_risk == 0
    assert book.state.positions[0].status is PositionStatus.CLOSED
    assert book.state.closed_at is not None


def test_leg_too_small_to_sell_still_trails_the_stop() -> None:
    book = Book(equity=as_money("450"))  # 0.5% of 450 / 1.50 = 1 share
    book.submit(signal(SPRING))
    book.price(tick("150.00", 1))  # 50% of 1 share floors to 0: nothing sold, stop trailed
    assert book.position(SPRING).open_shares == D(1)
    assert book.position(SPRING).stop == D("148.50")
    book.price(tick("156.00", 2))
    assert book.position(SPRING).stop == D("150.00")
    book.price(tick("159.00", 3))
    assert _sells(book) == [(OrderPurpose.TARGET_3, D(1), D("159.00"))]


def test_fractional_quantities_follow_the_step() -> None:
    book = Book(policy=Policy(quantity_step=D("0.0001")))
    plan = book.submit(signal(SPRING))
    assert plan.shares == D("333.3333")
    book.price(tick("159.00", 1))
    assert [q for _, q, _ in _sells(book)] == [D("166.6666"), D("99.9999"), D("66.6668")]
