"""Which orders the simulated broker refuses, pure: a deterministic share of all orders (as a
venue refuses some for reasons of its own), a BUY the account cannot pay for, and an order
whose fill would lie outside the bar that triggered it (SPEC section 11)."""

import hashlib
from decimal import Decimal

from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.domain.money import value_of
from campaign_engine.domain.orders import Order, outside_its_bar
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import OrderSide

_SPAN = Decimal(2**64)


def draw(client_order_id: str, seed: str) -> Decimal:
    """A number in [0, 1) fixed by the order id and the seed: the same scenario draws the same
    numbers, whatever process or run places it."""
    digest = hashlib.sha256(f"{seed}\x00{client_order_id}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / _SPAN


def refused_by_rate(order: Order, config: SimConfig) -> str | None:
    """The reason when the order is one of the ``reject_rate`` share refused, else None."""
    if config.reject_rate > 0 and draw(order.client_order_id, config.seed) < config.reject_rate:
        return f"rejected by simulation (rate {config.reject_rate})"
    return None


def refused_outside_its_bar(order: Order) -> str | None:
    """The reason when the order would fill, as placed, outside the bar that triggered it (an
    exit fills at once at its expected price); None when it is inside or no bar triggered
    it. A resting order's later fills are inside their bars by construction
    (``matching.bar_price``: the open, or a limit the bar traded through)."""
    return outside_its_bar(order, order.expected_price)


def refused_for_buying_power(
    order: Order, *, committed: MoneyValue, config: SimConfig
) -> str | None:
    """The reason when a BUY, at its limit, would take the money committed (open BUY orders'
    unfilled notional and held shares at cost) past the buying power; else None."""
    if order.side is not OrderSide.BUY or config.buying_power is None:
        return None
    price = order.limit_price if order.limit_price is not None else order.expected_price
    wanted = value_of(shares=order.quantity, price=price)
    if committed + wanted <= config.buying_power:
        return None
    return (
        f"insufficient buying power: {_shown(wanted)} for this order and {_shown(committed)} "
        f"committed exceed {_shown(config.buying_power)}"
    )


def _shown(amount: Decimal) -> str:
    """An amount as a person writes it: 49367.5, not 49367.50000000 or 4.93675E+4."""
    return format(amount.normalize(), "f")
