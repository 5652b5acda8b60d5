"""Prices (SPEC section 5): each update checked for invalidation, stops, then targets."""

from dataclasses import replace

from campaign_engine.domain.campaign.exit_orders import exit_order, legs
from campaign_engine.domain.campaign.flat import retry_flat
from campaign_engine.domain.campaign.operator_commands import exit_everything
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.errors import WrongSymbol
from campaign_engine.domain.events import EventData, ExitsTriggered, StopMove, StopsTrailed
from campaign_engine.domain.exits import (
    downside_fill_price,
    invalidation_level,
    is_invalidated,
    is_stopped,
    reach_targets,
)
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import NO_SHARES, plus
from campaign_engine.domain.order_events import OrderCancelRequested
from campaign_engine.domain.orders import Order, OrderRecord
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.timeframes import bar_length
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus, Pattern


def is_stale(state: CampaignState, update: PriceUpdate) -> bool:
    """Not for this campaign by market time (SPEC sections 5 and 9): not later than the entry
    signal that opened the campaign, or not newer than the last bar it took (by time, and by
    sequence when both carry one). No server clock takes part."""
    if state.created_at is not None and update.as_of <= state.created_at:
        return True
    if state.last_price_at is not None and update.as_of <= state.last_price_at:
        return True
    return (
        update.sequence is not None
        and state.last_sequence is not None
        and update.sequence <= state.last_sequence
    )


def on_price(
    state: CampaignState,
    update: PriceUpdate,
    policy: Policy,
    now: UtcDatetime,
    correlation_id: str,
) -> Outcome:
    """Evaluate one price update: stale -> ignored; then invalidation; then stops; then
    targets. A bar's low is looked at before its high, so a bar touching both a stop and a
    target is a stop. A campaign that has ended holding shares its exits could not sell
    offers them again at this price (``flat.retry_flat``)."""
    if not state.trades(update.symbol):
        raise WrongSymbol(
            f"campaign {state.campaign_id} trades {state.symbol}, not {update.symbol}"
        )
    if is_stale(state, update):
        return Outcome(state)
    state = replace(
        state,
        last_price=update.last,
        last_price_at=update.as_of,
        last_sequence=update.sequence if update.sequence is not None else state.last_sequence,
    )
    if not state.exists:
        return Outcome(state)
    if state.is_closed:
        return retry_flat(state, update.last, now, correlation_id, trigger="price")

    level = invalidation_level(state.trading_range, state.position_for(Pattern.SPRING))
    if level is not None and is_invalidated(level, update):
        price = downside_fill_price(level, update)
        reason = f"invalidation level {level} breached (low {update.bar_low})"
        return exit_everything(state, reason, lambda _: price, now, correlation_id, bar=update)

    orders: list[Order] = []
    positions: list[Position] = []
    cancels = expired_entries(state, update, policy)
    for position in state.positions:
        if not position.is_open or position.sellable_shares <= NO_SHARES:
            positions.append(position)
        elif is_stopped(position, update):
            quantity = position.sellable_shares
            price = downside_fill_price(position.stop, update)
            orders.append(
                exit_order(
                    state,
                    position,
                    OrderPurpose.STOP,
                    quantity=quantity,
                    expected_price=price,
                    limit_price=None,
                    now=now,
                    correlation_id=correlation_id,
                    bar=update,
                )
            )
            positions.append(
                replace(position, pending_exit_shares=plus(position.pending_exit_shares, quantity))
            )
            entry = _open_entry(state, position)
            if entry is not None and entry.order.client_order_id not in cancels:
                cancels[entry.order.client_order_id] = "its position stopped out"
        else:
            reached = reach_targets(position, update, policy)
            for intent in reached.exits:
                orders.append(
                    exit_order(
                        state,
                        position,
                        intent.purpose,
                        quantity=intent.quantity,
                        expected_price=intent.price,
                        limit_price=intent.level,
                        now=now,
                        correlation_id=correlation_id,
                        bar=update,
                    )
                )
            positions.append(reached.position)

    if tuple(positions) == state.positions and not cancels:
        return Outcome(state)
    records = tuple(
        replace(r, cancel_reason=cancels[r.order.client_order_id])
        if r.order.client_order_id in cancels
        else r
        for r in state.orders
    )
    new_state = replace(
        state,
        positions=tuple(positions),
        orders=(*records, *(OrderRecord(order=o) for o in orders)),
        version=state.version + 1,
        updated_at=now,
    )
    moved = tuple(
        StopMove(pattern=after.pattern, previous_stop=before.stop, stop=after.stop)
        for before, after in zip(state.positions, positions, strict=True)
        if after.stop != before.stop
    )
    announcements: list[EventData] = [
        OrderCancelRequested(
            client_order_id=r.order.client_order_id,
            purpose=r.order.purpose,
            unfilled=r.remaining,
            reason=cancels[r.order.client_order_id],
        )
        for r in state.orders
        if r.order.client_order_id in cancels
    ]
    if orders:
        announcements.append(
            ExitsTriggered(price=update.last, stops_moved=moved, exit_orders=legs(orders))
        )
    elif tuple(positions) != state.positions:
        announcements.append(StopsTrailed(price=update.last, stops_moved=moved))
    events = announce(new_state, now, correlation_id, announcements)
    return Outcome(new_state, orders=tuple(orders), cancellations=tuple(cancels), events=events)


def entry_order_expiry(
    created_at: UtcDatetime, timeframe: str, policy: Policy
) -> UtcDatetime | None:
    """The first market time an entry order placed at ``created_at`` has rested
    ``entry_order_ttl_bars`` bars of ``timeframe`` (None: a campaign recorded before timeframes
    were checked, whose entries never expire). The one rule the campaign, its quiet bars and
    the metrics (orders open past it) reckon expiry by."""
    try:
        return created_at + policy.entry_order_ttl_bars * bar_length(timeframe)
    except ValueError:
        return None


def expired_entries(state: CampaignState, update: PriceUpdate, policy: Policy) -> dict[str, str]:
    """Entry orders still resting ``entry_order_ttl_bars`` bars of the campaign's timeframe
    after they were placed, by market time: their unfilled rest is to be cancelled (SPEC
    section 2). Each is asked once; the broker's answer releases the reservation."""
    bars = f"{policy.entry_order_ttl_bars} bar(s) of {state.timeframe}"
    expired = {}
    for r in state.orders:
        if (
            r.order.purpose is OrderPurpose.ENTRY
            and r.status is OrderStatus.OPEN
            and r.cancel_reason is None
            and (expiry := entry_order_expiry(r.order.created_at, state.timeframe, policy))
            is not None
            and update.as_of >= expiry
        ):
            expired[r.order.client_order_id] = f"entry unfilled after {bars}"
    return expired


def _open_entry(state: CampaignState, position: Position) -> OrderRecord | None:
    """The position's entry order while part of it may still fill and no cancel was asked."""
    return next(
        (
            r
            for r in state.orders
            if r.order.position_id == position.id
            and r.order.purpose is OrderPurpose.ENTRY
            and r.status is OrderStatus.OPEN
            and r.cancel_reason is None
        ),
        None,
    )
