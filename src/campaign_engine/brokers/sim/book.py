"""The simulated broker's book in PostgreSQL (the brokers' table, ``broker_orders``): reading
an order as the broker answers it, what BUY orders and held shares commit of the buying power,
and the resting orders a bar may fill, locked.

Plain SQL on the psycopg connection under SQLAlchemy's (see ``db/statements.py``): a bar is
matched on the price path, so each costs one round trip for the orders it may fill and one
per order it fills."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg

from campaign_engine.brokers.order_row import FILLS_JSON
from campaign_engine.brokers.protocol import UnknownBrokerOrder
from campaign_engine.brokers.sim.matching import RestingOrder
from campaign_engine.db.statements import BROKER_OPEN_BUYS, json_param
from campaign_engine.domain.orders import BrokerOrder, Fill
from campaign_engine.domain.types import MoneyValue, PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import OrderSide, OrderStatus, OrderType

_ANSWER = "status, filled_quantity, fills::text, reason"

GET_ORDER = (
    f"SELECT {_ANSWER} FROM broker_orders"  # noqa: S608 - no input in the text
    " WHERE client_order_id = %(client_order_id)s"
)

# Money committed to buying: the unfilled rest of every open BUY at its limit, and the shares
# held of each symbol at their average cost.
COMMITTED = """
WITH bought AS (
    SELECT o.symbol,
           sum((f->>'quantity')::numeric) AS shares,
           sum((f->>'quantity')::numeric * (f->>'price')::numeric) AS cost
    FROM broker_orders o, jsonb_array_elements(o.fills) f
    WHERE o.side = 'BUY' GROUP BY o.symbol
), sold AS (
    SELECT symbol, sum(filled_quantity) AS shares FROM broker_orders
    WHERE side = 'SELL' GROUP BY symbol
), resting AS (
    SELECT coalesce(sum((quantity - filled_quantity) * coalesce(limit_price, expected_price)), 0)
           AS money
    FROM broker_orders WHERE side = 'BUY' AND status = 'OPEN'
)
SELECT (SELECT money FROM resting) + coalesce((
    SELECT round(sum(b.cost * greatest(b.shares - coalesce(s.shares, 0), 0) / b.shares), 8)
    FROM bought b LEFT JOIN sold s USING (symbol) WHERE b.shares > 0
), 0)
"""

# Buying-power checks of BUY orders one at a time, so that two at once cannot both pass.
LOCK_BUYING_POWER = "SELECT pg_advisory_xact_lock(7406516100)"

# The open orders of a symbol that no bar this recent has matched yet, locked: a second
# process matching the same bar waits, then finds them matched (``last_bar_at``) or filled.
# Only orders a campaign placed (a row written at the broker by hand has no type or campaign).
RESTING = """
SELECT client_order_id, side, order_type, limit_price, quantity, filled_quantity,
       jsonb_array_length(fills), "order"->>'campaign_id'
FROM broker_orders
WHERE symbol = %(symbol)s AND status = 'OPEN'
  AND (last_bar_at IS NULL OR last_bar_at < %(as_of)s)
  AND order_type IS NOT NULL AND "order" ? 'campaign_id'
ORDER BY submitted_at, client_order_id
FOR UPDATE
"""

RECORD_FILL = f"""
UPDATE broker_orders
SET fills = fills || %(fill)s::jsonb,
    filled_quantity = filled_quantity + %(quantity)s,
    status = CASE WHEN filled_quantity + %(quantity)s >= quantity THEN 'FILLED' ELSE status END,
    last_bar_at = %(as_of)s,
    updated_at = %(now)s
WHERE client_order_id = %(client_order_id)s
RETURNING {_ANSWER}
"""  # noqa: S608 - no input in the text

CANCEL = f"""
UPDATE broker_orders SET status = %(cancelled)s, updated_at = %(now)s
WHERE client_order_id = %(client_order_id)s AND status = 'OPEN'
RETURNING {_ANSWER}
"""  # noqa: S608 - no input in the text

# A cancel asked for and acknowledged, not yet confirmed (``SimConfig.pending_cancels``): the
# order is still open (no bar fills it, and a wash-trade rule still sees it) until it is next
# looked up, which confirms it.
PENDING_CANCEL = "PENDING_CANCEL"
CONFIRM_CANCEL = """
UPDATE broker_orders SET status = 'CANCELLED', updated_at = %(now)s
WHERE client_order_id = %(client_order_id)s AND status = 'PENDING_CANCEL'
"""


@dataclass(frozen=True, slots=True)
class BookedOrder:
    """A resting order as the book holds it, and the campaign that placed it."""

    campaign_id: str
    resting: RestingOrder


def answer(client_order_id: str, row: Sequence[Any] | None) -> BrokerOrder:
    """The broker's answer about an order from its row (``_ANSWER``'s columns)."""
    if row is None:
        raise UnknownBrokerOrder(f"no order {client_order_id}")
    status, filled_quantity, fills, reason = row
    return BrokerOrder(
        client_order_id=client_order_id,
        status=OrderStatus.OPEN if status == PENDING_CANCEL else OrderStatus(status),
        filled_quantity=filled_quantity,
        fills=FILLS_JSON.validate_json(fills),
        reason=reason,
    )


async def get_order(pg: psycopg.AsyncConnection[Any], client_order_id: str) -> BrokerOrder:
    found = await pg.execute(GET_ORDER, {"client_order_id": client_order_id})
    return answer(client_order_id, await found.fetchone())


async def committed_money(pg: psycopg.AsyncConnection[Any]) -> MoneyValue:
    """What BUY orders and held shares commit now. Call after ``LOCK_BUYING_POWER``."""
    found = await (await pg.execute(COMMITTED)).fetchone()
    return MoneyValue(Decimal(found[0]) if found is not None else Decimal(0))


async def resting_orders(
    pg: psycopg.AsyncConnection[Any], symbol: str, as_of: datetime
) -> list[BookedOrder]:
    """The open orders of ``symbol`` a bar at ``as_of`` may fill, locked until commit."""
    found = await pg.execute(RESTING, {"symbol": symbol, "as_of": as_of})
    booked = []
    for row in await found.fetchall():
        client_order_id, side, order_type, limit, quantity, filled, count, campaign_id = row
        resting = RestingOrder(
            client_order_id=client_order_id,
            side=OrderSide(side),
            order_type=OrderType(order_type),
            limit_price=PriceValue(limit) if limit is not None else None,
            quantity=QuantityValue(quantity),
            filled_quantity=QuantityValue(filled),
            fill_count=count,
        )
        booked.append(BookedOrder(campaign_id, resting))
    return booked


async def record_fill(pg: psycopg.AsyncConnection[Any], fill: Fill, as_of: datetime) -> BrokerOrder:
    """Add ``fill`` to its order, marked as matched by the bar at ``as_of``."""
    found = await pg.execute(
        RECORD_FILL,
        {
            "client_order_id": fill.client_order_id,
            "fill": json_param(FILLS_JSON, (fill,)),
            "quantity": fill.quantity,
            "as_of": as_of,
            "now": datetime.now(UTC),
        },
    )
    return answer(fill.client_order_id, await found.fetchone())


async def confirm_cancel(pg: psycopg.AsyncConnection[Any], client_order_id: str) -> None:
    """A pending cancel of the order, if any, takes effect."""
    await pg.execute(CONFIRM_CANCEL, {"client_order_id": client_order_id, "now": datetime.now(UTC)})


async def open_buys(
    pg: psycopg.AsyncConnection[Any], symbol: str
) -> list[tuple[str, PriceValue | None]]:
    """Every open BUY on ``symbol`` (a pending cancel included), with its limit."""
    found = await pg.execute(BROKER_OPEN_BUYS, {"symbol": symbol})
    return [(row[0], row[1]) for row in await found.fetchall()]


async def cancel(
    pg: psycopg.AsyncConnection[Any], client_order_id: str, *, pending: bool = False
) -> BrokerOrder:
    """OPEN -> CANCELLED (or PENDING_CANCEL, still open, when ``pending``), keeping its fills;
    an order that has ended already (filled first: the cancel lost the race) is answered as
    it stands."""
    found = await pg.execute(
        CANCEL,
        {
            "client_order_id": client_order_id,
            "now": datetime.now(UTC),
            "cancelled": PENDING_CANCEL if pending else OrderStatus.CANCELLED.value,
        },
    )
    row = await found.fetchone()
    if row is not None:
        return answer(client_order_id, row)
    return await get_order(pg, client_order_id)
