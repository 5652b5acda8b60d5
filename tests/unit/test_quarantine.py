"""Quarantine (SPEC section 11): the campaign a refused change leaves behind refuses entries
and releases what it reserved, while its exits still run and an operator can end it."""

from dataclasses import replace

import pytest

from campaign_engine.domain.campaign import invalidate
from campaign_engine.domain.campaign.quarantine import quarantine
from campaign_engine.domain.events import CampaignQuarantined
from campaign_engine.domain.money import NO_MONEY
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    OrderStatus,
    Pattern,
    PositionStatus,
    RejectionCode,
)
from campaign_engine.testing.builders import T0, Book, D, signal, tick

pytestmark = pytest.mark.unit

REASON = "revision 4 cannot be saved: CheckViolation: a value the database refuses"


def test_a_resting_entry_is_cancelled_and_its_reservation_released() -> None:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SPRING))
    assert book.state.reserved_risk == D("499.50")

    outcome = quarantine(book.state, REASON, T0, "quarantine:test")

    state = outcome.state
    assert state.status is CampaignStatus.QUARANTINED
    assert state.quarantine_reason == REASON
    assert state.version == book.state.version + 1
    assert state.reserved_risk == NO_MONEY
    assert outcome.cancellations == ("AAPL-2024-10-15:SPRING:ENTRY",)
    assert [r.status for r in state.orders] == [OrderStatus.CANCELLED]
    assert state.positions[0].status is PositionStatus.CLOSED
    (event,) = outcome.events
    assert isinstance(event.data, CampaignQuarantined)
    assert event.data.reason == REASON
    assert [leg.quantity for leg in event.data.cancelled_orders] == [D(333)]


def test_entries_are_refused_and_exits_still_run() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))  # 333 shares open at 148.50, stop 147.00
    book.carry_out(quarantine(book.state, REASON, T0, "quarantine:test"))
    assert book.state.status.value == "QUARANTINED"

    sos = book.submit(signal(Pattern.SOS))
    assert not sos.approved
    assert sos.rejection_code is RejectionCode.CAMPAIGN_QUARANTINED
    assert REASON in (sos.rejection_reason or "")

    book.price(tick("146.90", 5))  # below the Spring's stop, its invalidation level
    spring = book.position(Pattern.SPRING)
    assert spring.open_shares == 0
    assert spring.realized_pnl == D("-532.80")  # 333 x (146.90 - 148.50)
    assert book.state.status is CampaignStatus.INVALIDATED


def test_an_operator_invalidates_a_quarantined_campaign() -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    book.carry_out(quarantine(book.state, REASON, T0, "quarantine:test"))
    book.carry_out(invalidate(book.state, "seen: exit", T0, "operator"))
    assert book.state.status is CampaignStatus.INVALIDATED
    assert book.position(Pattern.SPRING).open_shares == 0


def test_a_closed_campaign_keeps_its_status() -> None:
    book = Book()
    closed = replace(book.state, status=CampaignStatus.COMPLETED)
    assert quarantine(closed, REASON, T0, "q").state.status is CampaignStatus.COMPLETED
