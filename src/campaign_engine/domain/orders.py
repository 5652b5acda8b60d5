"""Orders the campaign asks the broker for, and the fills that come back."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from campaign_engine.domain.money import NO_SHARES, difference
from campaign_engine.domain.types import (
    Price,
    PriceValue,
    Quantity,
    QuantityValue,
    Symbol,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import (
    OrderPurpose,
    OrderSide,
    OrderStatus,
    OrderType,
    Pattern,
)

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def client_order_id(
    campaign_id: str, pattern: Pattern, purpose: OrderPurpose, attempt: int = 1
) -> str:
    """Deterministic id (campaign, position, leg, attempt): a retry can never place an order
    twice.

    A position is one pattern of one campaign, and each leg is placed once per attempt, so the
    id is unique and stable across retries, replays and worker crashes. A leg placed again (its
    order was rejected or cancelled) gets a new id, since a broker never takes an id twice,
    even for an order that ended; the first attempt keeps the plain triple.
    """
    base = f"{campaign_id}:{pattern.value}:{purpose.value}"
    return base if attempt == 1 else f"{base}:{attempt}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An instruction to the broker.

    ``limit_price`` is the limit of a LIMIT order (None for MARKET). ``expected_price`` is where
    the SPEC fill model says it fills: the entry price, a target level or the open of a bar
    that gapped above it, a stop level or the open of a bar that gapped through it, or a tick.

    ``bar_low``/``bar_high`` are the range of the bar that triggered the order (a stop, a
    target, an invalidation level crossed by a price update): the paper and the simulated
    broker refuse to fill it outside that range (SPEC section 11). None when no bar triggered
    it: an entry (placed on a signal, at the signal's price), an operator's invalidation (at
    the last price). An exit placed again after the broker refused one keeps its range.
    """

    client_order_id: str
    campaign_id: str
    position_id: UUID
    symbol: Symbol
    side: OrderSide
    order_type: OrderType
    purpose: OrderPurpose
    quantity: Quantity
    limit_price: Price | None
    expected_price: Price
    created_at: UtcDatetime
    correlation_id: str
    bar_low: Price | None = None
    bar_high: Price | None = None


def outside_its_bar(order: Order, price: PriceValue) -> str | None:
    """Why a fill of ``order`` at ``price`` is refused (SPEC section 11: a paper or simulated
    fill outside the bar that triggered it), or None when it lies in the bar or no bar
    triggered the order."""
    low, high = order.bar_low, order.bar_high
    if low is None or high is None or low <= price <= high:
        return None
    return (
        f"fill price {price:f} is outside the bar that triggered the order "
        f"(low {low:f}, high {high:f})"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """An order as the campaign tracks it: how much of it has filled, by which fills."""

    order: Order
    status: OrderStatus = OrderStatus.OPEN
    filled_quantity: Quantity = NO_SHARES
    fill_ids: tuple[str, ...] = ()
    cancel_reason: str | None = None  # why the campaign asked to cancel it (still OPEN until
    # the broker answers: a cancel races fills)
    reason: str | None = None  # the broker's words when it ended unfilled (rejected, expired)

    @property
    def remaining(self) -> QuantityValue:
        return difference(high=self.order.quantity, low=self.filled_quantity)


class Fill(BaseModel):
    """An execution reported by the broker; ``fill_id`` makes re-delivery harmless."""

    model_config = _FROZEN

    fill_id: str
    client_order_id: str
    quantity: Quantity
    price: Price
    filled_at: UtcDatetime


def paper_fill(order: Order, filled_at: UtcDatetime) -> Fill:
    """The SPEC fill model: the whole order fills at once at its expected price. The fill id
    is derived from the order's, so a re-submitted order yields the very same fill."""
    return Fill(
        fill_id=f"{order.client_order_id}:1",
        client_order_id=order.client_order_id,
        quantity=order.quantity,
        price=order.expected_price,
        filled_at=filled_at,
    )


class BrokerOrder(BaseModel):
    """The broker's view of an order, keyed by our client order id: the truth a campaign
    books (see ``brokers.protocol``)."""

    model_config = _FROZEN

    client_order_id: str
    status: OrderStatus
    filled_quantity: Decimal
    fills: tuple[Fill, ...] = ()
    reason: str | None = None  # the broker's words when it rejected, cancelled or expired it
