"""A row of the brokers' book (``broker_orders``), as the paper and the simulated broker place
it: the order as placed, where it stands, and its fills."""

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from campaign_engine.db.statements import json_param
from campaign_engine.domain.money import total
from campaign_engine.domain.orders import Fill, Order
from campaign_engine.domain.vocabulary import OrderStatus

ORDER_JSON = TypeAdapter(Order)
FILLS_JSON = TypeAdapter(tuple[Fill, ...])


def placed_row(
    order: Order,
    fills: tuple[Fill, ...],
    *,
    reason: str | None = None,
    last_bar_at: datetime | None = None,
) -> dict[str, Any]:
    """The row of a newly placed order: FILLED when ``fills`` fill it whole, REJECTED when it
    was refused (``reason``), OPEN otherwise. ``last_bar_at``: no bar up to this market time
    may fill it."""
    filled = total(f.quantity for f in fills)
    if reason is not None:
        status = OrderStatus.REJECTED
    elif filled == order.quantity:
        status = OrderStatus.FILLED
    else:
        status = OrderStatus.OPEN
    now = datetime.now(UTC)
    return {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "status": status.value,
        "filled_quantity": filled,
        "order": json_param(ORDER_JSON, order),
        "fills": json_param(FILLS_JSON, fills),
        "submitted_at": now,
        "updated_at": now,
        "order_type": order.order_type.value,
        "limit_price": order.limit_price,
        "expected_price": order.expected_price,
        "reason": reason,
        "last_bar_at": last_bar_at,
    }
