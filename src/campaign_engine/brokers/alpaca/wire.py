"""Alpaca's JSON as we read it, and what it means in the engine's terms.

Money and quantities are exact: Alpaca sends them as JSON strings, read here straight into
``Decimal``; a JSON number, should one come, is parsed as a ``Decimal`` too (``loads``), never
through a float. alpaca-py's models are not used at run time: its ``TradeUpdate`` turns
``price`` and ``qty`` into floats, and importing the SDK costs a worker about 0.6 s and
pandas. The tests check these tables and the fake server's JSON against the SDK.

**Fill ids.** A fill's id is derived from the order and the order's cumulative filled quantity
after that execution: ``{client_order_id}:fill:{cum_qty}``. Both places a fill is learned
from carry that number (a ``trade_updates`` fill event's ``order.filled_qty``, an account
activity's ``cum_qty``), so the stream and a poll name the same execution alike and a fill
delivered both ways is booked once. Alpaca's own ids differ between the two (the stream's
``execution_id`` is a UUID, the activity's ``id`` is ``{time}::{uuid}``, and the docs do not
promise the UUIDs match), and ``filled_qty``/``filled_avg_price`` alone cannot tell two
executions from one.
"""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from campaign_engine.domain.orders import BrokerOrder, Fill
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus, Pattern

_READ = ConfigDict(frozen=True, extra="ignore")


def loads(content: bytes | str) -> Any:
    """JSON with every number a ``Decimal``."""
    return json.loads(content, parse_float=Decimal)


class AlpacaOrder(BaseModel):
    """The fields of Alpaca's order object the engine reads."""

    model_config = _READ

    id: str
    client_order_id: str
    symbol: str
    side: str
    status: str
    qty: Decimal | None = None
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    time_in_force: str | None = None
    limit_price: Decimal | None = None
    replaced_by: str | None = None
    updated_at: datetime | None = None


class FillActivity(BaseModel):
    """One execution, from ``GET /v2/account/activities/FILL``."""

    model_config = _READ

    id: str
    order_id: str
    qty: Decimal
    cum_qty: Decimal
    price: Decimal
    transaction_time: datetime


class TradeUpdate(BaseModel):
    """The ``data`` of a ``trade_updates`` message. ``qty`` and ``price`` are the execution's
    (fill and partial_fill events only)."""

    model_config = _READ

    event: str
    order: AlpacaOrder
    timestamp: datetime | None = None
    execution_id: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None


class AlpacaPosition(BaseModel):
    model_config = _READ

    symbol: str
    qty: Decimal
    side: str = "long"


ENDED: dict[str, OrderStatus] = {
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
    # The engine never replaces an order; one replaced by hand is over for the campaign.
    "replaced": OrderStatus.CANCELLED,
}
WORKING = frozenset(
    {
        "new",
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "partially_filled",
        "done_for_day",  # a GTC order trades again the next day
        "pending_cancel",  # a cancel races fills: not over until Alpaca says canceled
        "pending_replace",
        "pending_review",
        "stopped",
        "suspended",
        "calculated",
        "held",
    }
)
"""Alpaca's order statuses (alpaca-py's ``OrderStatus``; a unit test checks that every one of
its values is in one of the two tables). An order in these may still fill."""


def our_status(order: AlpacaOrder) -> OrderStatus:
    """A status not in either table counts as working: the campaign keeps asking until it
    ends. Whatever the status, an order filled in full is FILLED."""
    if order.qty is not None and order.filled_qty >= order.qty:
        return OrderStatus.FILLED
    return ENDED.get(order.status, OrderStatus.OPEN)


def reason_for(order: AlpacaOrder) -> str | None:
    """Alpaca's words for an order that ended short (its order object carries no reason)."""
    match our_status(order):
        case OrderStatus.REJECTED:
            return "rejected by Alpaca"
        case OrderStatus.EXPIRED:
            return f"expired at Alpaca (time in force {order.time_in_force or 'unknown'})"
        case OrderStatus.CANCELLED if order.status == "replaced":
            return f"replaced at Alpaca by order {order.replaced_by}"
        case OrderStatus.CANCELLED:
            return "canceled at Alpaca"
        case _:
            return None


def fill_id(client_order_id: str, cumulative_quantity: Decimal) -> str:
    """See the module's docstring: the same execution gets the same id from every source."""
    return f"{client_order_id}:fill:{format(cumulative_quantity.normalize(), 'f')}"


def fill_from_activity(client_order_id: str, activity: FillActivity) -> Fill:
    return Fill(
        fill_id=fill_id(client_order_id, activity.cum_qty),
        client_order_id=client_order_id,
        quantity=activity.qty,
        price=activity.price,
        filled_at=activity.transaction_time,
    )


def fill_from_update(update: TradeUpdate) -> Fill | None:
    """The execution a fill or partial_fill event reports (None for other events)."""
    if update.qty is None or update.price is None or update.timestamp is None:
        return None
    return Fill(
        fill_id=fill_id(update.order.client_order_id, update.order.filled_qty),
        client_order_id=update.order.client_order_id,
        quantity=update.qty,
        price=update.price,
        filled_at=update.timestamp,
    )


def broker_order(
    order: AlpacaOrder, fills: tuple[Fill, ...], reason: str | None = None
) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=order.client_order_id,
        status=our_status(order),
        filled_quantity=order.filled_qty,
        fills=fills,
        reason=reason or reason_for(order),
    )


_PATTERNS = frozenset(p.value for p in Pattern)
_PURPOSES = frozenset(p.value for p in OrderPurpose)


def campaign_of(client_order_id: str) -> str | None:
    """The campaign a client order id belongs to: ``{campaign}:{pattern}:{purpose}`` with an
    optional ``:{attempt}`` (``domain.orders.client_order_id``), read from the right so that a
    campaign id may hold colons. None for an id the engine did not make (an order placed by
    hand in the same account)."""
    parts = client_order_id.split(":")
    if len(parts) >= 4 and parts[-1].isdigit():
        parts = parts[:-1]
    if len(parts) < 3:
        return None
    *campaign, pattern, purpose = parts
    if pattern not in _PATTERNS or purpose not in _PURPOSES:
        return None
    return ":".join(campaign) or None
