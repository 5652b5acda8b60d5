"""The simulated exchange's matching, pure: which part of a resting order a bar fills, and at
what price (SPEC section 5, "Fills at a broker that does not fill at once").

- a BUY limit (an entry) fills on a bar whose low is at or below its limit: at the limit, or at
  the open when the bar opened below it;
- a SELL limit (a target) fills on a bar whose high is at or above its limit: at the limit, or
  at the open when the bar opened above it;
- a market order (a stop or invalidation exit left resting) fills at the bar's open.

A bar fills at most ``fill_fraction`` of the order's quantity (at least one quantity step, never
more than remains); a tick is a bar whose four prices are equal. Fills are numbered from the
order's client order id and stamped with the bar's market time, so the same bars fill the same
way whenever they are played.
"""

from dataclasses import dataclass

from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import NO_SHARES, difference, floor_to_step, scaled
from campaign_engine.domain.orders import Fill, Order
from campaign_engine.domain.types import PriceValue, QuantityValue, UtcDatetime
from campaign_engine.domain.vocabulary import OrderSide, OrderType


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """What matching needs of an order in the book."""

    client_order_id: str
    side: OrderSide
    order_type: OrderType
    limit_price: PriceValue | None
    quantity: QuantityValue
    filled_quantity: QuantityValue
    fill_count: int

    @property
    def remaining(self) -> QuantityValue:
        return difference(high=self.quantity, low=self.filled_quantity)


def quantity_per_bar(
    *, quantity: QuantityValue, remaining: QuantityValue, config: SimConfig
) -> QuantityValue:
    """What one bar fills of an order of ``quantity`` with ``remaining`` unfilled: the fraction
    of the whole order, floored to the step, at least one step, never more than remains."""
    share = floor_to_step(scaled(quantity, by=config.fill_fraction), step=config.quantity_step)
    return min(max(share, config.quantity_step), remaining)


def bar_price(
    *, side: OrderSide, order_type: OrderType, limit_price: PriceValue | None, bar: PriceUpdate
) -> PriceValue | None:
    """Where ``bar`` fills such an order, or None when it does not trade through it."""
    opened = bar.bar_open
    if order_type is OrderType.MARKET or limit_price is None:
        return opened
    if side is OrderSide.BUY:
        return None if bar.bar_low > limit_price else min(opened, limit_price)
    return None if bar.bar_high < limit_price else max(opened, limit_price)


def match(order: RestingOrder, bar: PriceUpdate, config: SimConfig) -> Fill | None:
    """The fill ``bar`` gives the resting ``order``, or None."""
    if order.remaining <= NO_SHARES:
        return None
    price = bar_price(
        side=order.side, order_type=order.order_type, limit_price=order.limit_price, bar=bar
    )
    if price is None:
        return None
    quantity = quantity_per_bar(quantity=order.quantity, remaining=order.remaining, config=config)
    return numbered_fill(order.client_order_id, order.fill_count + 1, quantity, price, bar.as_of)


def fill_on_submit(order: Order, config: SimConfig) -> Fill | None:
    """What fills as the order is placed. An entry rests for the bars to come. An exit was
    placed by its campaign on the bar that crossed its level, so it fills at once at the price
    the SPEC fill model gives it (``expected_price``) and at that bar's time, as much as one
    bar fills; the rest rests."""
    if order.side is OrderSide.BUY:
        return None
    quantity = quantity_per_bar(quantity=order.quantity, remaining=order.quantity, config=config)
    if quantity <= NO_SHARES:
        return None
    return numbered_fill(order.client_order_id, 1, quantity, order.expected_price, order.created_at)


def numbered_fill(
    client_order_id: str,
    number: int,
    quantity: QuantityValue,
    price: PriceValue,
    filled_at: UtcDatetime,
) -> Fill:
    """The ``number``-th fill of an order (from 1): ``{client_order_id}:{number}``."""
    return Fill(
        fill_id=f"{client_order_id}:{number}",
        client_order_id=client_order_id,
        quantity=quantity,
        price=price,
        filled_at=filled_at,
    )
