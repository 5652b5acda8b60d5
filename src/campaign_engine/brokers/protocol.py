"""What the engine needs of a broker, whichever it is (paper, simulated or real).

Orders are keyed by the engine's client order id, the idempotency key at every broker:
submitting the same id again returns the existing order and never places a second one, and
an id is never reused for another order (a replacement gets a new one).

A broker's answer about an order is a ``BrokerOrder``; what it says is the truth the campaign
books: its fills (each once, by fill id), and when it ends without filling in full, why
(``CANCELLED``, ``EXPIRED`` or ``REJECTED`` with the broker's ``reason``). A broker that learns
of fills by itself (a venue's stream, a simulated market) pushes each change to the campaign
through an ``OrderUpdates`` sink; a campaign also asks (``get_order``) when it starts, reloads
and periodically, so a push that was lost is only late.
"""

from decimal import Decimal
from typing import Protocol

from campaign_engine.domain.orders import Fill, Order
from campaign_engine.temporal.messages import BrokerOrder


class UnknownBrokerOrder(LookupError):
    """The broker has no order with that client order id."""


class Broker(Protocol):
    async def submit(self, order: Order) -> BrokerOrder:
        """Place the order (or find the one placed under its client order id). A broker
        that refuses it answers ``REJECTED`` with its reason rather than raising."""
        ...

    async def cancel(self, client_order_id: str) -> BrokerOrder:
        """Ask to cancel what has not filled. The answer is how the order stands after the
        request: a cancel races fills, so it may report fills (or ``FILLED``) all the same."""
        ...

    async def get_order(self, client_order_id: str) -> BrokerOrder: ...

    async def fills(self, client_order_id: str) -> tuple[Fill, ...]: ...

    async def position(self, symbol: str) -> Decimal:
        """Shares of ``symbol`` the account holds at the broker (what reconciliation compares
        with the open shares of the campaigns on that symbol)."""
        ...

    async def blocking_buys(self, order: Order) -> tuple[str, ...]:
        """Client order ids of the account's open BUY orders (whoever placed them, a cancel
        asked for but not confirmed yet included) for whose sake the broker would refuse the
        SELL ``order``: its wash-trade rule (``brokers/wash_trade.py``). None at a broker
        without such a rule. An exit goes out once there are none (``activities/effects.py``)."""
        ...


class OrderUpdates(Protocol):
    """Where a broker pushes what happened to an order, for the campaign that placed it."""

    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None: ...
