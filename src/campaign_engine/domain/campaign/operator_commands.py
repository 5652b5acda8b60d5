"""Invalidation and operator commands (SPEC section 4): exit everything, change status."""

from collections.abc import Callable
from dataclasses import replace

from campaign_engine.domain.campaign.exit_orders import exit_order, give_up_entry, legs
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.errors import NoCampaign
from campaign_engine.domain.events import CampaignInvalidated, OrderLeg, StatusChanged
from campaign_engine.domain.lifecycle import (
    phase_for,
    require_open,
    require_operator_transition,
    require_version,
)
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import NO_SHARES, plus
from campaign_engine.domain.orders import Order, OrderRecord
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import PriceValue, UtcDatetime
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    OrderPurpose,
)


def exit_everything(
    state: CampaignState,
    reason: str,
    exit_price: Callable[[Position], PriceValue],
    now: UtcDatetime,
    correlation_id: str,
    *,
    bar: PriceUpdate | None = None,
) -> Outcome:
    """Exit every open share at once and cancel entries that have not filled; ``bar`` is the
    price update that breached the invalidation level, if one did."""
    orders: list[Order] = []
    cancellations: list[OrderLeg] = []
    positions: list[Position] = []
    records = list(state.orders)
    for position in state.positions:
        if position.sellable_shares > NO_SHARES:
            quantity = position.sellable_shares
            orders.append(
                exit_order(
                    state,
                    position,
                    OrderPurpose.INVALIDATION,
                    quantity=quantity,
                    expected_price=exit_price(position),
                    limit_price=None,
                    now=now,
                    correlation_id=correlation_id,
                    bar=bar,
                )
            )
            position = replace(
                position, pending_exit_shares=plus(position.pending_exit_shares, quantity)
            )
        positions.append(give_up_entry(state, position, records, cancellations, now))
    new_state = replace(
        state,
        positions=tuple(positions),
        orders=(*records, *(OrderRecord(order=o) for o in orders)),
        status=CampaignStatus.INVALIDATED,
        invalidation_reason=reason,
        version=state.version + 1,
        updated_at=now,
    )
    if not orders:
        new_state = replace(new_state, closed_at=now)
    invalidated = CampaignInvalidated(
        reason=reason, exit_orders=legs(orders), cancelled_orders=tuple(cancellations)
    )
    events = announce(new_state, now, correlation_id, [invalidated])
    cancelled = tuple(leg.client_order_id for leg in cancellations)
    return Outcome(new_state, tuple(orders), cancelled, events)


def invalidate(state: CampaignState, reason: str, now: UtcDatetime, correlation_id: str) -> Outcome:
    """Operator or orchestrator invalidation: exit everything at the last price seen for the
    symbol, or at each position's entry price if no price was seen."""
    if not state.exists:
        raise NoCampaign(f"there is no campaign {state.campaign_id}")
    require_open(state.status, state.campaign_id)
    reason = reason.strip()
    if not reason:
        raise ValueError("an invalidation needs a reason")
    last = state.last_price
    return exit_everything(
        state,
        reason,
        lambda p: last if last is not None else p.average_entry_price,
        now,
        correlation_id,
    )


def change_status(
    state: CampaignState,
    status: CampaignStatus,
    expected_version: int,
    now: UtcDatetime,
    correlation_id: str,
) -> Outcome:
    """An operator's status change (PATCH): the version must be current and the transition
    one an operator may make."""
    if not state.exists:
        raise NoCampaign(f"there is no campaign {state.campaign_id}")
    require_version(state.version, expected_version, state.campaign_id)
    require_operator_transition(state.status, status)
    new_state = replace(
        state,
        status=status,
        phase=phase_for(status, state.phase),
        version=state.version + 1,
        updated_at=now,
    )
    changed = StatusChanged(status=status, phase=new_state.phase, by="operator")
    return Outcome(new_state, events=announce(new_state, now, correlation_id, [changed]))
