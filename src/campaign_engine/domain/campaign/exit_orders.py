"""The sell orders a campaign places for a position: stops, targets and invalidation."""

from collections.abc import Iterable
from dataclasses import replace

from campaign_engine.domain.events import OrderLeg
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import NO_SHARES
from campaign_engine.domain.orders import Order, OrderRecord, client_order_id
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import PriceValue, QuantityValue, UtcDatetime
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderStatus, OrderType


def exit_order(
    state: CampaignState,
    position: Position,
    purpose: OrderPurpose,
    *,
    quantity: QuantityValue,
    expected_price: PriceValue,
    limit_price: PriceValue | None,
    now: UtcDatetime,
    correlation_id: str,
    bar: PriceUpdate | None = None,
) -> Order:
    """A sell of ``position``; ``bar`` is the price update that triggered it, if one did."""
    placed_before = sum(
        1 for r in state.orders if r.order.position_id == position.id and r.order.purpose is purpose
    )
    return Order(
        client_order_id=client_order_id(
            state.campaign_id, position.pattern, purpose, attempt=placed_before + 1
        ),
        campaign_id=state.campaign_id,
        position_id=position.id,
        symbol=state.symbol,
        side=OrderSide.SELL,
        order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
        purpose=purpose,
        quantity=quantity,
        limit_price=limit_price,
        expected_price=expected_price,
        created_at=now,
        correlation_id=correlation_id,
        bar_low=bar.bar_low if bar is not None else None,
        bar_high=bar.bar_high if bar is not None else None,
    )


def legs(orders: Iterable[Order]) -> tuple[OrderLeg, ...]:
    """Orders as their events name them."""
    return tuple(OrderLeg(client_order_id=o.client_order_id, quantity=o.quantity) for o in orders)


def give_up_entry(
    state: CampaignState,
    position: Position,
    records: list[OrderRecord],
    cancellations: list[OrderLeg],
    now: UtcDatetime,
) -> Position:
    """``position`` once the unfilled rest of its entry is given up on (its order marked
    cancelled in ``records``, a cancellation added to ``cancellations``): its reserved risk is
    released. A position whose entry has filled whole is returned as it is."""
    if position.unfilled_shares <= NO_SHARES:
        return position
    entry_id = client_order_id(state.campaign_id, position.pattern, OrderPurpose.ENTRY)
    cancellations.append(OrderLeg(client_order_id=entry_id, quantity=position.unfilled_shares))
    records[:] = [
        replace(r, status=OrderStatus.CANCELLED) if r.order.client_order_id == entry_id else r
        for r in records
    ]
    return position.released(now)
