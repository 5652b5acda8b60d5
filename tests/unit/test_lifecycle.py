"""Lifecycle and version (SPEC section 4), and booking fills."""

from decimal import Decimal
from uuid import UUID

import pytest

from campaign_engine.domain.campaign import apply_fill, change_status, invalidate
from campaign_engine.domain.errors import (
    InvalidTransition,
    NoCampaign,
    Overfill,
    UnknownOrder,
    VersionConflict,
)
from campaign_engine.domain.events import CampaignCompleted
from campaign_engine.domain.orders import Fill, paper_fill
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    EventType,
    Pattern,
    PositionStatus,
)
from campaign_engine.testing.builders import T0, Book, signal, tick, trading_range

D = Decimal
SPRING, SOS, LPS = Pattern.SPRING, Pattern.SOS, Pattern.LPS


def test_created_by_the_first_approved_entry_at_version_1() -> None:
    book = Book(fill_orders=False)
    assert not book.state.exists
    book.submit(signal(SPRING))
    state = book.state
    assert state.exists
    assert (state.status, state.phase, state.version) == (
        CampaignStatus.ACTIVE,
        CampaignPhase.ACCUMULATION,
        1,
    )
    assert state.campaign_id == "AAPL-2024-10-15"
    assert [e.type for e in book.events] == [EventType.CAMPAIGN_CREATED]


def test_position_opens_on_the_fill_not_on_the_approval() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    pending = book.position(SPRING)
    assert (pending.status, pending.shares, pending.open_shares) == (
        PositionStatus.PENDING,
        D(0),
        D(0),
    )
    assert book.state.reserved_risk == D("499.50") and book.state.open_risk == 0
    (order,) = book.orders
    assert order.client_order_id == "AAPL-2024-10-15:SPRING:ENTRY"
    outcome = apply_fill(book.state, paper_fill(order, T0), T0)
    opened = outcome.state.position_for(SPRING)
    assert opened is not None
    assert (opened.status, opened.shares, opened.open_shares) == (
        PositionStatus.OPEN,
        D(333),
        D(333),
    )
    assert outcome.state.open_risk == D("499.50") and outcome.state.reserved_risk == 0
    assert [e.type for e in outcome.events] == [EventType.POSITION_OPENED]


def test_partial_entry_fills_keep_the_rest_reserved() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    (order,) = book.orders
    part = Fill(
        fill_id="f1",
        client_order_id=order.client_order_id,
        quantity=D(100),
        price=order.expected_price,
        filled_at=T0,
    )
    state = apply_fill(book.state, part, T0).state
    assert state.open_risk == D(150) and state.reserved_risk == D("349.50")
    with pytest.raises(Overfill):
        apply_fill(state, part.model_copy(update={"fill_id": "f2", "quantity": D(234)}), T0)


def test_a_fill_delivered_twice_is_booked_once() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(SPRING))
    fill = paper_fill(book.orders[0], T0)
    once = apply_fill(book.state, fill, T0)
    twice = apply_fill(once.state, fill, T0)
    assert twice.state is once.state and not twice.changed


def test_a_fill_for_an_unknown_order_is_refused() -> None:
    book = Book()
    book.submit(signal(SPRING))
    stray = Fill(
        fill_id="x",
        client_order_id="AAPL-2024-10-15:SOS:ENTRY",
        quantity=D(1),
        price=D(1),
        filled_at=T0,
    )
    with pytest.raises(UnknownOrder):
        apply_fill(book.state, stray, T0)


@pytest.mark.parametrize("pattern", [SOS, LPS])
def test_first_sos_or_lps_fill_moves_to_markup(pattern: Pattern) -> None:
    book = Book()
    book.submit(signal(SPRING))
    assert book.state.status is CampaignStatus.ACTIVE
    plan = book.submit(signal(pattern))
    assert plan.approved
    assert (book.state.status, book.state.phase) == (CampaignStatus.MARKUP, CampaignPhase.MARKUP)


def test_approval_alone_does_not_move_to_markup() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(SOS))
    assert book.state.status is CampaignStatus.ACTIVE


def test_version_grows_by_one_with_every_state_change() -> None:
    book = Book()
    versions = [book.state.version]
    book.submit(signal(SPRING))  # approve + fill
    versions.append(book.state.version)
    book.price(tick("148.60", 1))  # no crossing: no change
    versions.append(book.state.version)
    book.submit(signal(SPRING, confidence=99))  # duplicate: rejected, no change
    versions.append(book.state.version)
    book.price(tick("150.00", 2))  # t1 order + fill
    versions.append(book.state.version)
    assert versions == [0, 2, 2, 2, 4]
    assert [e.version for e in book.events] == sorted(e.version for e in book.events)


def test_operator_patch_active_to_markup_with_the_current_version() -> None:
    book = Book()
    book.submit(signal(SPRING))
    version = book.state.version
    with pytest.raises(VersionConflict, match=f"at version {version}"):
        change_status(book.state, CampaignStatus.MARKUP, version - 1, T0, "op")
    outcome = change_status(book.state, CampaignStatus.MARKUP, version, T0, "op")
    assert (outcome.state.status, outcome.state.phase) == (
        CampaignStatus.MARKUP,
        CampaignPhase.MARKUP,
    )
    assert outcome.state.version == version + 1


@pytest.mark.parametrize(
    "target",
    [CampaignStatus.ACTIVE, CampaignStatus.COMPLETED, CampaignStatus.INVALIDATED],
)
def test_operator_patch_refuses_other_transitions(target: CampaignStatus) -> None:
    book = Book()
    book.submit(signal(SPRING))
    with pytest.raises(InvalidTransition):
        change_status(book.state, target, book.state.version, T0, "op")


def test_no_transition_out_of_a_terminal_status() -> None:
    book = Book()
    book.submit(signal(SPRING))
    book.carry_out(invalidate(book.state, "operator", T0, "op"))
    with pytest.raises(InvalidTransition, match="INVALIDATED"):
        change_status(book.state, CampaignStatus.MARKUP, book.state.version, T0, "op")


def test_patching_a_campaign_that_does_not_exist() -> None:
    with pytest.raises(NoCampaign):
        change_status(CampaignState.for_range(trading_range()), CampaignStatus.MARKUP, 0, T0, "op")


def test_completed_event_carries_final_metrics() -> None:
    book = Book()
    book.submit(signal(SPRING))
    book.price(tick("159.00", 1))
    completed = book.events[-1]
    assert completed.type is EventType.CAMPAIGN_COMPLETED
    assert isinstance(completed.data, CampaignCompleted)
    assert completed.data.realized_pnl == D(333) * D("10.50")
    assert completed.data.r_multiple == D("7.0000")  # 10.50 gained per 1.50 risked


def test_event_ids_are_unique_and_deterministic() -> None:
    def play() -> list[str]:
        book = Book()
        book.submit(signal(SPRING, signal_id=UUID(int=1)))
        book.price(tick("150.00", 1))
        book.price(tick("159.00", 2))
        return [str(e.event_id) for e in book.events]

    first, second = play(), play()
    assert first == second
    assert len(set(first)) == len(first)
