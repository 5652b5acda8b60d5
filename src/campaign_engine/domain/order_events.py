"""Events of orders that do not simply fill (SPEC section 5, brokers that do not fill at once):
an entry's unfilled rest cancelled, expired or rejected and its risk released, an exit that
failed and was placed again, and what a broker reported that the campaign did not expect.
They are kinds of ``CampaignUpdated`` and part of ``events.EventData``."""

from dataclasses import dataclass
from typing import ClassVar, Literal
from uuid import UUID

from campaign_engine.domain.types import MoneyValue, QuantityValue
from campaign_engine.domain.vocabulary import EventType, OrderPurpose, OrderStatus, Pattern


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelRequested:
    """The campaign asked the broker to cancel what an order has not filled (an entry past its
    expiry, or whose position stopped out). The broker's answer decides what is released."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["OrderCancelRequested"] = "OrderCancelRequested"
    client_order_id: str
    purpose: OrderPurpose
    unfilled: QuantityValue
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryReleased:
    """An entry order ended before it filled in full (cancelled, expired or rejected): the
    position keeps the shares that filled, and the risk reserved for the rest is released."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["EntryReleased"] = "EntryReleased"
    position_id: UUID
    pattern: Pattern
    client_order_id: str
    status: OrderStatus
    filled_shares: QuantityValue
    released_shares: QuantityValue
    released_risk: MoneyValue
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitOrderFailed:
    """An exit order ended before selling all it should (rejected, cancelled, expired): its
    unsold shares are placed again under a new client order id (``replaced_by``), or, when
    the attempts are used up, stay open for the next price to exit."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["ExitOrderFailed"] = "ExitOrderFailed"
    position_id: UUID
    pattern: Pattern
    purpose: OrderPurpose
    client_order_id: str
    status: OrderStatus
    unsold: QuantityValue
    reason: str
    replaced_by: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerDifference:
    """The broker reported what the campaign did not expect (a fill on an order it had given
    up on, shares gone from the account): booked once, as the broker says, and announced."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["BrokerDifference"] = "BrokerDifference"
    client_order_id: str | None
    quantity: QuantityValue
    description: str
