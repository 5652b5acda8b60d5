"""A broker in memory whose behaviour each test decides: by default it fills every order at
once by the SPEC fill model, as the paper broker does (refusing a fill outside the bar that
triggered the order); a test can have orders rest, fill them later in parts, refuse them,
or say what the account holds.

Orders are keyed by client order id as at every broker: submitting one again returns the order
already there and places nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from campaign_engine.domain.orders import Fill, Order, outside_its_bar, paper_fill
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderStatus
from campaign_engine.temporal.messages import BrokerOrder

Decide = Callable[[Order], BrokerOrder]
"""What the broker answers to an order placed with it for the first time."""


def fills_at_once(order: Order) -> BrokerOrder:
    """The paper broker's answer: all of it at its expected price, unless that price lies
    outside the bar that triggered it (SPEC section 11)."""
    refusal = outside_its_bar(order, order.expected_price)
    if refusal is not None:
        return _answer(order, OrderStatus.REJECTED, reason=refusal)
    fill = paper_fill(order, order.created_at)
    return _answer(order, OrderStatus.FILLED, fills=(fill,))


def rests(order: Order) -> BrokerOrder:
    """Open, nothing filled: a limit the market has not reached."""
    return _answer(order, OrderStatus.OPEN)


def entries_rest(order: Order) -> BrokerOrder:
    """Entries rest at their limit; exits fill at once, as at the paper broker."""
    return rests(order) if order.purpose is OrderPurpose.ENTRY else fills_at_once(order)


def refuses(reason: str) -> Decide:
    def refuse(order: Order) -> BrokerOrder:
        return _answer(order, OrderStatus.REJECTED, reason=reason)

    return refuse


def _answer(
    order: Order, status: OrderStatus, *, fills: tuple[Fill, ...] = (), reason: str | None = None
) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=order.client_order_id,
        status=status,
        filled_quantity=sum((f.quantity for f in fills), start=Decimal(0)),
        fills=fills,
        reason=reason,
    )


@dataclass
class BrokerBook:
    decide: Decide = fills_at_once
    """How the broker answers an order; a test may change it at any time."""
    decide_sells: Decide | None = None
    """How it answers sells, when not as ``decide`` (a broker refusing exits, say)."""
    cancel_loses_race: bool = False
    """Whether a cancel arrives after the market filled the rest of the order at its limit
    (the broker then answers FILLED, as a cancel racing fills may)."""
    held: dict[str, Decimal] = field(default_factory=dict)
    """What the account holds by symbol, when a test says so (else what was traded)."""
    orders: dict[str, Order] = field(default_factory=dict)
    answers: dict[str, BrokerOrder] = field(default_factory=dict)

    def submit(self, order: Order) -> BrokerOrder:
        known = self.answers.get(order.client_order_id)
        if known is not None:
            return known
        decide = self.decide_sells if order.side is OrderSide.SELL and self.decide_sells else None
        answer = (decide or self.decide)(order)
        self.orders[order.client_order_id] = order
        self.answers[order.client_order_id] = answer
        return answer

    def cancel(self, client_order_id: str) -> BrokerOrder:
        answer = self.get_order(client_order_id)
        if answer.status is OrderStatus.OPEN and self.cancel_loses_race:
            order = self.orders[client_order_id]
            rest = order.quantity - answer.filled_quantity
            return self.fill(client_order_id, rest, order.expected_price, order.created_at)
        if answer.status is OrderStatus.OPEN:
            answer = answer.model_copy(update={"status": OrderStatus.CANCELLED})
            self.answers[client_order_id] = answer
        return answer

    def get_order(self, client_order_id: str) -> BrokerOrder:
        answer = self.answers.get(client_order_id)
        if answer is None:
            raise LookupError(f"no order {client_order_id}")
        return answer

    def fill(
        self, client_order_id: str, quantity: Decimal, price: Decimal, at: datetime
    ) -> BrokerOrder:
        """The market trades ``quantity`` more of an open order at ``price``."""
        answer = self.get_order(client_order_id)
        assert answer.status is OrderStatus.OPEN, answer
        fill = Fill(
            fill_id=f"{client_order_id}:{len(answer.fills) + 1}",
            client_order_id=client_order_id,
            quantity=quantity,
            price=price,
            filled_at=at,
        )
        filled = answer.filled_quantity + quantity
        whole = filled >= self.orders[client_order_id].quantity
        answer = answer.model_copy(
            update={
                "fills": (*answer.fills, fill),
                "filled_quantity": filled,
                "status": OrderStatus.FILLED if whole else OrderStatus.OPEN,
            }
        )
        self.answers[client_order_id] = answer
        return answer

    def position(self, symbol: str) -> Decimal:
        if symbol in self.held:
            return self.held[symbol]
        shares = Decimal(0)
        for client_order_id, order in self.orders.items():
            if order.symbol == symbol:
                filled = self.answers[client_order_id].filled_quantity
                shares += filled if order.side is OrderSide.BUY else -filled
        return shares

    def sells(self, campaign_id: str) -> list[tuple[str, Decimal, Decimal]]:
        """The campaign's sells as they reached the broker: purpose, quantity, expected price,
        by client order id."""
        return [
            (o.purpose.value, o.quantity, o.expected_price)
            for _, o in sorted(self.orders.items())
            if o.campaign_id == campaign_id and o.side is OrderSide.SELL
        ]
