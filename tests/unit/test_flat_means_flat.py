"""Flat means flat (issue 22): an INVALIDATION exit the broker refused until its attempts were
used up is not abandoned. The campaign shows it is waiting to be flat, and each later price
(or the workflow's backoff) offers the unsold shares again, announced each time, until the
campaign holds nothing and ends."""

from decimal import Decimal

from campaign_engine.domain.campaign import awaiting_flat, retry_flat
from campaign_engine.domain.events import AllPositionsExited, FlatteningRetried
from campaign_engine.domain.order_events import ExitOrderFailed
from campaign_engine.domain.vocabulary import CampaignStatus, OrderPurpose, OrderStatus, Pattern
from campaign_engine.testing.builders import T0, as_price, bar, tick
from tests.unit.test_broker_reports import Broker, filled_spring

WASH = "potential wash trade detected. use complex orders"


def invalidated_with_its_exit_refused() -> Broker:
    """The worked Spring (333 held), the range broken, the INVALIDATION exit refused three
    times in a row (the issue's run: a buy on the symbol still open at the broker)."""
    broker = filled_spring()
    broker.book.price(bar("147.00", "147.10", "146.50", "146.60", minutes=60))  # below 147.00
    assert broker.book.state.status is CampaignStatus.INVALIDATED
    for attempt in (1, 2, 3):
        broker.report(broker.order(OrderPurpose.INVALIDATION, attempt), OrderStatus.REJECTED, WASH)
    assert isinstance(broker.book.events[-1].data, ExitOrderFailed)
    return broker


def test_an_ended_campaign_holding_refused_shares_waits_to_be_flat() -> None:
    broker = invalidated_with_its_exit_refused()
    state = broker.book.state
    spring = broker.book.position(Pattern.SPRING)
    assert (spring.open_shares, spring.pending_exit_shares) == (Decimal(333), Decimal(0))
    assert awaiting_flat(state)
    assert state.closed_at is None  # not ended for good: it holds shares


def test_each_later_price_offers_the_unsold_shares_again_until_flat() -> None:
    broker = invalidated_with_its_exit_refused()
    broker.book.price(tick("146.40", minutes=120))
    again = broker.order(OrderPurpose.INVALIDATION, 4)
    assert (again.quantity, again.expected_price, again.limit_price) == (
        Decimal(333),
        Decimal("146.40"),
        None,
    )
    retried = broker.book.events[-1].data
    assert isinstance(retried, FlatteningRetried)
    assert (retried.trigger, retried.held) == ("price", Decimal(333))
    assert [leg.client_order_id for leg in retried.exit_orders] == [again.client_order_id]

    broker.report(again, OrderStatus.REJECTED, WASH)  # refused once more: waits again
    broker.book.price(tick("146.30", minutes=180))
    last = broker.order(OrderPurpose.INVALIDATION, 5)
    broker.fill(last, 333, "146.30", minutes=180)
    broker.report(last, OrderStatus.FILLED)
    assert not awaiting_flat(broker.book.state)
    assert broker.book.state.closed_at is not None
    assert isinstance(broker.book.events[-1].data, AllPositionsExited)


def test_the_backoff_offers_them_at_the_last_price_and_nothing_when_flat() -> None:
    broker = invalidated_with_its_exit_refused()
    state = broker.book.state
    outcome = retry_flat(state, as_price("146.60"), T0, "flatten:1", trigger="backoff")
    (order,) = outcome.orders
    assert (order.purpose, order.quantity) == (OrderPurpose.INVALIDATION, Decimal(333))
    assert outcome.state.version == state.version + 1
    # While that order is out, nothing more is offered.
    assert (
        retry_flat(outcome.state, as_price("146.60"), T0, "flatten:2", trigger="backoff").orders
        == ()
    )
