"""A broker that does not fill at once (SPEC section 5): partial entry fills, entries that expire
or are rejected, exits that fail, fills after the campaign gave up, shares sold by hand.

The worked SPRING (148.50, stop 147.00, 0.5% of 100,000) asks for 333 shares; it rests here
until the test says what the broker did."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from campaign_engine.domain.campaign import book_holding, book_report, invalidate
from campaign_engine.domain.events import AllocationRejected, CampaignCompleted
from campaign_engine.domain.order_events import (
    BrokerDifference,
    EntryReleased,
    ExitOrderFailed,
    OrderCancelRequested,
)
from campaign_engine.domain.orders import BrokerOrder, Fill, Order
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    OrderPurpose,
    OrderStatus,
    Pattern,
    PositionStatus,
    RejectionCode,
)
from campaign_engine.testing.builders import T0, Book, bar, signal

ENTRY_ID = "AAPL-2024-10-15:SPRING:ENTRY"


@dataclass
class Broker:
    """What a broker says of the campaign's orders, one report at a time."""

    book: Book = field(default_factory=lambda: Book(fill_orders=False))
    fills: dict[str, list[Fill]] = field(default_factory=dict)

    def fill(self, order: Order, quantity: int, price: str, minutes: int) -> None:
        fills = self.fills.setdefault(order.client_order_id, [])
        fills.append(
            Fill(
                fill_id=f"{order.client_order_id}:{len(fills) + 1}",
                client_order_id=order.client_order_id,
                quantity=Decimal(quantity),
                price=Decimal(price),
                filled_at=T0 + timedelta(minutes=minutes),
            )
        )

    def report(self, order: Order, status: OrderStatus, reason: str | None = None) -> None:
        fills = tuple(self.fills.get(order.client_order_id, ()))
        filled = sum((f.quantity for f in fills), Decimal(0))
        answer = BrokerOrder(
            client_order_id=order.client_order_id,
            status=status,
            filled_quantity=filled,
            fills=fills,
            reason=reason,
        )
        for outcome in book_report(self.book.state, answer):
            self.book.carry_out(outcome)

    def order(self, purpose: OrderPurpose, attempt: int = 1) -> Order:
        placed = [o for o in self.book.orders if o.purpose is purpose]
        return placed[attempt - 1]


def resting_spring() -> Broker:
    broker = Broker()
    plan = broker.book.submit(signal(Pattern.SPRING))
    assert plan.approved and plan.shares == 333
    return broker


def kinds(book: Book) -> list[str]:
    return [e.data.kind for e in book.events]


def test_a_partial_fill_opens_the_filled_shares_and_keeps_the_rest_reserved() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.fill(entry, 100, "148.50", minutes=60)
    broker.report(entry, OrderStatus.OPEN)
    spring = broker.book.position(Pattern.SPRING)
    assert (spring.shares, spring.open_shares, spring.unfilled_shares) == (
        Decimal(100),
        Decimal(100),
        Decimal(233),
    )
    assert spring.open_risk == Decimal("150.00")  # 100 x 1.50
    assert spring.reserved_risk == Decimal("349.50")  # 233 x 1.50
    # The report again (a poll after a push) books nothing twice.
    before = broker.book.state
    broker.report(entry, OrderStatus.OPEN)
    assert broker.book.state == before


def test_the_ladder_sells_fractions_of_what_filled() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.fill(entry, 100, "148.50", minutes=60)
    broker.report(entry, OrderStatus.OPEN)
    broker.book.price(bar("149.00", "150.20", "148.90", "150.10", minutes=120))
    t1 = broker.order(OrderPurpose.TARGET_1)
    assert t1.quantity == 50  # floor(0.50 x 100 filled), not of the 333 asked


def test_an_entry_expires_after_its_bars_of_market_time_and_its_risk_is_released() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=179))
    assert broker.book.state.order(ENTRY_ID).cancel_reason is None  # type: ignore[union-attr]
    outcome = broker.book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=180))
    assert outcome.cancellations == (ENTRY_ID,)
    assert "entry unfilled after 3 bar(s) of 1h" in str(outcome.events[0].data)
    # Asked once: a later bar does not ask again while the broker has not answered.
    assert (
        broker.book.price(bar("149.0", "149.4", "148.6", "149.2", minutes=240)).cancellations == ()
    )
    broker.report(entry, OrderStatus.CANCELLED)
    spring = broker.book.position(Pattern.SPRING)
    assert spring.status is PositionStatus.CLOSED and spring.shares == 0
    assert broker.book.state.reserved_risk == 0
    released = broker.book.events[-1].data
    assert isinstance(released, EntryReleased)
    assert (released.released_shares, released.released_risk) == (Decimal(333), Decimal("499.50"))
    # Nothing was ever held: the campaign stays open for its next entry.
    assert broker.book.state.status is CampaignStatus.ACTIVE
    assert broker.book.state.closed_at is None


def test_an_expired_entry_keeps_what_filled_before_the_cancel() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.fill(entry, 120, "148.50", minutes=30)
    broker.book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=180))
    broker.report(entry, OrderStatus.CANCELLED)
    spring = broker.book.position(Pattern.SPRING)
    assert (spring.shares, spring.open_shares, spring.unfilled_shares) == (
        Decimal(120),
        Decimal(120),
        Decimal(0),
    )
    assert spring.status is PositionStatus.OPEN
    assert broker.book.state.reserved_risk == 0


def test_an_entry_the_campaign_gave_up_on_that_filled_after_all_is_booked_and_announced() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=180))  # asks a cancel
    broker.fill(entry, 333, "148.50", minutes=170)  # ...but the broker had filled it
    broker.report(entry, OrderStatus.FILLED)
    assert broker.book.position(Pattern.SPRING).open_shares == 333
    assert kinds(broker.book)[-2:] == ["PositionOpened", "BrokerDifference"]


def test_a_rejected_entry_is_announced_with_the_brokers_reason() -> None:
    broker = resting_spring()
    broker.report(
        broker.order(OrderPurpose.ENTRY), OrderStatus.REJECTED, "insufficient buying power"
    )
    rejected = broker.book.events[-1].data
    assert isinstance(rejected, AllocationRejected)
    assert rejected.code is RejectionCode.BROKER_REJECTED
    assert rejected.reason == "insufficient buying power"
    assert broker.book.state.reserved_risk == 0


def filled_spring() -> Broker:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.fill(entry, 333, "148.50", minutes=30)
    broker.report(entry, OrderStatus.FILLED)
    return broker


def test_a_rejected_exit_is_placed_again_under_a_new_id_a_few_times() -> None:
    broker = filled_spring()
    # The low touches the stop (147.00) but does not breach the invalidation level below it.
    broker.book.price(bar("147.50", "147.60", "147.00", "147.10", minutes=60))
    for attempt in (1, 2):
        stop = broker.order(OrderPurpose.STOP, attempt)
        broker.report(stop, OrderStatus.REJECTED, "halted")
        failed = broker.book.events[-1].data
        assert isinstance(failed, ExitOrderFailed)
        assert failed.replaced_by == f"{ENTRY_ID.removesuffix('ENTRY')}STOP:{attempt + 1}"
    broker.report(broker.order(OrderPurpose.STOP, 3), OrderStatus.REJECTED, "halted")
    spring = broker.book.position(Pattern.SPRING)
    # Attempts used up: the shares wait, unclaimed, for the next price below the stop.
    assert (spring.open_shares, spring.pending_exit_shares) == (Decimal(333), Decimal(0))
    broker.book.price(bar("147.20", "147.30", "147.00", "147.10", minutes=120))
    assert broker.order(OrderPurpose.STOP, 4).client_order_id.endswith(":STOP:4")


def test_a_stop_cancels_the_rest_of_the_positions_entry() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.fill(entry, 100, "148.50", minutes=30)
    broker.report(entry, OrderStatus.OPEN)
    outcome = broker.book.price(bar("147.50", "147.60", "147.00", "147.10", minutes=60))
    assert outcome.cancellations == (ENTRY_ID,)
    cancel = outcome.events[0].data
    assert isinstance(cancel, OrderCancelRequested) and cancel.reason == "its position stopped out"
    stop = broker.order(OrderPurpose.STOP)
    assert stop.quantity == 100
    broker.fill(stop, 100, "147.00", minutes=60)
    broker.report(stop, OrderStatus.FILLED)
    broker.report(entry, OrderStatus.CANCELLED)
    assert broker.book.position(Pattern.SPRING).status is PositionStatus.CLOSED
    assert isinstance(broker.book.events[-1].data, CampaignCompleted)


def test_a_late_entry_fill_into_an_invalidated_campaign_is_sold_at_once() -> None:
    broker = resting_spring()
    entry = broker.order(OrderPurpose.ENTRY)
    broker.book.carry_out(invalidate(broker.book.state, "range broken", T0, "op-1"))
    broker.fill(entry, 50, "148.50", minutes=1)
    broker.report(entry, OrderStatus.CANCELLED)
    sell = broker.order(OrderPurpose.RECONCILE)
    assert sell.quantity == 50
    assert isinstance(broker.book.events[-1].data, BrokerDifference)
    assert broker.book.state.status is CampaignStatus.INVALIDATED


def test_shares_sold_by_hand_are_booked_once_at_the_last_price() -> None:
    broker = filled_spring()
    broker.book.price(bar("149.00", "149.40", "148.60", "149.20", minutes=60))
    for outcome in book_holding(broker.book.state, Decimal(200)):
        broker.book.carry_out(outcome)
    spring = broker.book.position(Pattern.SPRING)
    assert spring.open_shares == 200
    by_hand = spring.exits[-1]
    assert (by_hand.purpose, by_hand.quantity, by_hand.price) == (
        OrderPurpose.BY_HAND,
        Decimal(133),
        Decimal("149.20"),
    )
    assert isinstance(broker.book.events[-1].data, BrokerDifference)
    # Reconciled again with the same holding: nothing more to book.
    assert book_holding(broker.book.state, Decimal(200)) == ()
    assert book_holding(broker.book.state, Decimal(500)) == ()
