"""Invariants under a broker that fills in parts, rejects, cancels and expires at random (issue:
orders as real brokers treat them): risk reserved plus open never passes the campaign's
budget, no position sells more than it bought, and every share is accounted for."""

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from campaign_engine.domain.campaign import book_report
from campaign_engine.domain.money import total
from campaign_engine.domain.orders import BrokerOrder, Fill, OrderRecord
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import OrderSide, OrderStatus, Pattern
from campaign_engine.testing.builders import EQUITY, T0, Book, bar, signal

D = Decimal
BUDGET = EQUITY * DEFAULT_POLICY.campaign_max_risk_pct / 100

# One step of the market or the broker: a bar around the range, or the broker acting on the
# n-th order still open (fill a share of what is left, or end it one way or another).
bars = st.tuples(st.just("bar"), st.integers(14600, 16300), st.integers(0, 300))
fills = st.tuples(st.just("fill"), st.integers(0, 5), st.integers(1, 100))
ends = st.tuples(
    st.sampled_from([OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED]),
    st.integers(0, 5),
    st.just(0),
)
steps = st.lists(st.one_of(bars, fills, ends), min_size=1, max_size=40)


class RandomBroker:
    def __init__(self) -> None:
        self.book = Book(fill_orders=False)
        self.fills: dict[str, tuple[Fill, ...]] = {}
        self.minutes = 1

    def open_orders(self) -> list[OrderRecord]:
        return [r for r in self.book.state.orders if r.status is OrderStatus.OPEN]

    def act(self, kind: object, a: int, b: int) -> None:
        self.minutes += 1
        if kind == "bar":
            low, high = D(a) / 100, D(a + b) / 100
            self.book.price(bar(str(high), str(high), str(low), str(low), self.minutes))
            return
        records = self.open_orders()
        if not records:
            return
        record = records[a % len(records)]
        cid = record.order.client_order_id
        booked = self.fills.get(cid, ())
        left = record.order.quantity - sum((f.quantity for f in booked), D(0))
        status = OrderStatus.OPEN
        if kind == "fill":
            quantity = max(D(1), (left * b / 100).to_integral_value())
            quantity = min(quantity, left)
            if quantity > 0:
                fill = Fill(
                    fill_id=f"{cid}:{len(booked) + 1}",
                    client_order_id=cid,
                    quantity=quantity,
                    price=record.order.expected_price,
                    filled_at=T0 + timedelta(minutes=self.minutes),
                )
                booked = (*booked, fill)
                self.fills[cid] = booked
            filled = sum((f.quantity for f in booked), D(0))
            status = OrderStatus.FILLED if filled == record.order.quantity else OrderStatus.OPEN
        else:
            assert isinstance(kind, OrderStatus)
            status = kind
        report = BrokerOrder(
            client_order_id=cid,
            status=status,
            filled_quantity=sum((f.quantity for f in booked), D(0)),
            fills=booked,
            reason=None if status is OrderStatus.OPEN else "random broker",
        )
        for outcome in book_report(self.book.state, report):
            self.book.carry_out(outcome)


def assert_accounted(state: CampaignState, broker: RandomBroker) -> None:
    assert state.open_risk + state.reserved_risk <= BUDGET
    for position in state.positions:
        exited = total(e.quantity for e in position.exits)
        assert 0 <= position.open_shares <= position.shares <= position.planned_shares
        assert 0 <= position.pending_exit_shares <= position.open_shares
        assert position.shares == position.open_shares + exited  # every share accounted for
        sold_at_broker = sum(
            (
                f.quantity
                for r in state.orders
                if r.order.position_id == position.id and r.order.side is OrderSide.SELL
                for f in broker.fills.get(r.order.client_order_id, ())
            ),
            D(0),
        )
        assert sold_at_broker <= position.shares  # never oversold
    for record in state.orders:
        assert record.filled_quantity <= record.order.quantity


@settings(max_examples=300, deadline=None)
@given(steps)
def test_random_partials_rejects_and_expiries_keep_every_share_and_dollar(
    script: list[tuple[object, int, int]],
) -> None:
    broker = RandomBroker()
    broker.book.submit(signal(Pattern.SPRING))
    broker.book.submit(signal(Pattern.SOS, at=T0 + timedelta(seconds=1)))
    for kind, a, b in script:
        broker.act(kind, a, b)
        assert_accounted(broker.book.state, broker)
