"""What the broker reports of an order, booked (SPEC section 5: what the broker reports is the
truth). Fills are booked once each, by fill id; an order that ended before filling in full
releases what it held: an entry's reserved risk, an exit's claim on shares (placed again under
a new client order id, a few times at most). A fill on an order the campaign had given up on is
booked all the same and announced as a difference.
"""

from dataclasses import replace

from campaign_engine.domain.campaign.exit_orders import exit_order
from campaign_engine.domain.campaign.fills import apply_fill, finish, is_done, replace_position
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.errors import UnknownOrder
from campaign_engine.domain.events import AllocationRejected, EventData
from campaign_engine.domain.money import NO_SHARES, difference, plus
from campaign_engine.domain.order_events import BrokerDifference, EntryReleased, ExitOrderFailed
from campaign_engine.domain.orders import BrokerOrder, Fill, Order, OrderRecord
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import (
    OrderPurpose,
    OrderStatus,
    RejectionCode,
)

MAX_EXIT_ATTEMPTS = 3
"""How many orders one exit leg gets in a row before its unsold shares wait for the next price
(a broker that keeps refusing is not asked again in a tight loop)."""


def book_report(state: CampaignState, report: BrokerOrder) -> tuple[Outcome, ...]:
    """Every change the report brings, in order: each new fill, then the order's end."""
    record = state.order(report.client_order_id)
    if record is None:
        raise UnknownOrder(f"campaign {state.campaign_id} placed no order {report.client_order_id}")
    gave_up = record.status is not OrderStatus.OPEN or record.cancel_reason is not None
    outcomes: list[Outcome] = []
    for fill in report.fills:
        current = state.order(report.client_order_id)
        assert current is not None
        if fill.fill_id in current.fill_ids:
            continue
        booked = apply_fill(state, fill, fill.filled_at)
        outcomes.append(booked)
        state = booked.state
        if gave_up:
            outcomes.append(_late_fill(state, current, fill))
            state = outcomes[-1].state
    current = state.order(report.client_order_id)
    assert current is not None
    ended_short = report.status.is_final and report.status is not OrderStatus.FILLED
    if ended_short and current.status is OrderStatus.OPEN:
        outcomes.append(_ended_unfilled(state, current, report.status, report.reason))
    return tuple(outcomes)


def _late_fill(state: CampaignState, record: OrderRecord, fill: Fill) -> Outcome:
    """A fill on an order the campaign had cancelled or given up on: booked (above) and
    announced; shares a campaign that has ended now holds are sold at once."""
    order = record.order
    why = record.cancel_reason or f"it was {record.status.value.lower()}"
    description = (
        f"{order.purpose.value} order {order.client_order_id} filled {fill.quantity} at "
        f"{fill.price} after the campaign gave up on it ({why})"
    )
    orders: tuple[Order, ...] = ()
    now = fill.filled_at
    if order.purpose is OrderPurpose.ENTRY and state.is_closed:
        position = _position(state, order)
        sell = exit_order(
            state,
            position,
            OrderPurpose.RECONCILE,
            quantity=fill.quantity,
            expected_price=state.last_price or fill.price,
            limit_price=None,
            now=now,
            correlation_id=order.correlation_id,
        )
        orders = (sell,)
        description += f"; the campaign has ended, so they are sold ({sell.client_order_id})"
        position = replace(
            position, pending_exit_shares=plus(position.pending_exit_shares, fill.quantity)
        )
        state = replace(state, positions=replace_position(state, position))
        state = replace(state, orders=(*state.orders, OrderRecord(order=sell)))
    state = replace(state, version=state.version + 1, updated_at=max(now, state.updated_at or now))
    difference_event = BrokerDifference(
        client_order_id=order.client_order_id, quantity=fill.quantity, description=description
    )
    correlation = f"broker:{fill.fill_id}"
    return Outcome(
        state, orders=orders, events=announce(state, now, correlation, [difference_event])
    )


def _ended_unfilled(
    state: CampaignState, record: OrderRecord, status: OrderStatus, reason: str | None
) -> Outcome:
    """The order ended with shares left: release what it held, at the campaign's clock."""
    now = state.market_time
    assert now is not None  # an order exists, so the campaign has acted
    words = reason or record.cancel_reason or f"{status.value.lower()} by the broker"
    ended = replace(record, status=status, reason=words)
    orders = tuple(ended if r is record else r for r in state.orders)
    state = replace(state, orders=orders, version=state.version + 1, updated_at=now)
    position = _position(state, record.order)
    correlation = f"broker:{record.order.client_order_id}:{status.value}"
    if record.order.purpose is OrderPurpose.ENTRY:
        return _release_entry(state, position, ended, now, correlation)
    return _retry_exit(state, position, ended, now, correlation)


def _release_entry(
    state: CampaignState,
    position: Position,
    record: OrderRecord,
    now: UtcDatetime,
    correlation: str,
) -> Outcome:
    released = position.released(now)
    state = replace(state, positions=replace_position(state, released))
    assert record.reason is not None
    announcements: list[EventData] = [
        EntryReleased(
            position_id=position.id,
            pattern=position.pattern,
            client_order_id=record.order.client_order_id,
            status=record.status,
            filled_shares=position.shares,
            released_shares=position.unfilled_shares,
            released_risk=position.reserved_risk,
            reason=record.reason,
        )
    ]
    if record.status is OrderStatus.REJECTED:
        announcements.append(
            AllocationRejected(
                signal_id=position.signal_id,
                pattern=position.pattern,
                code=RejectionCode.BROKER_REJECTED,
                reason=record.reason,
            )
        )
    if is_done(state):
        state, final = finish(state, now)
        announcements.append(final)
    return Outcome(state, events=announce(state, now, correlation, announcements))


def _retry_exit(
    state: CampaignState,
    position: Position,
    record: OrderRecord,
    now: UtcDatetime,
    correlation: str,
) -> Outcome:
    order = record.order
    unsold = record.remaining
    position = replace(
        position,
        pending_exit_shares=max(
            NO_SHARES, difference(high=position.pending_exit_shares, low=unsold)
        ),
    )
    state = replace(state, positions=replace_position(state, position))
    attempts = sum(
        1
        for r in state.orders
        if r.order.position_id == position.id and r.order.purpose is order.purpose
    )
    again: tuple[Order, ...] = ()
    quantity = min(unsold, position.sellable_shares)
    if attempts < MAX_EXIT_ATTEMPTS and quantity > NO_SHARES:
        replacement = exit_order(
            state,
            position,
            order.purpose,
            quantity=quantity,
            expected_price=order.expected_price,
            limit_price=order.limit_price,
            now=now,
            correlation_id=order.correlation_id,
        )
        # Triggered by the same bar as the order it replaces: held to the same range.
        replacement = replace(replacement, bar_low=order.bar_low, bar_high=order.bar_high)
        again = (replacement,)
        position = replace(
            position, pending_exit_shares=plus(position.pending_exit_shares, quantity)
        )
        state = replace(
            state,
            positions=replace_position(state, position),
            orders=(*state.orders, OrderRecord(order=replacement)),
        )
    assert record.reason is not None
    failed = ExitOrderFailed(
        position_id=position.id,
        pattern=position.pattern,
        purpose=order.purpose,
        client_order_id=order.client_order_id,
        status=record.status,
        unsold=unsold,
        reason=record.reason,
        replaced_by=again[0].client_order_id if again else None,
    )
    return Outcome(state, orders=again, events=announce(state, now, correlation, [failed]))


def _position(state: CampaignState, order: Order) -> Position:
    return next(p for p in state.positions if p.id == order.position_id)
