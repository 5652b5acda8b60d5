"""Fills: positions open, grow and close on broker fills, never on intentions (SPEC 5)."""

from dataclasses import replace

from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.errors import Overfill, UnknownOrder
from campaign_engine.domain.events import (
    AllPositionsExited,
    CampaignCompleted,
    EntryFilled,
    EventData,
    ExitExecuted,
    PositionOpened,
    StatusChanged,
)
from campaign_engine.domain.ledger import r_multiple
from campaign_engine.domain.lifecycle import phase_for, status_after_entry_fill
from campaign_engine.domain.money import NO_SHARES, difference, plus, total, value_of
from campaign_engine.domain.orders import Fill, OrderRecord
from campaign_engine.domain.positions import ExitRecord, Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    OrderPurpose,
    OrderStatus,
    PositionStatus,
)


def replace_position(state: CampaignState, position: Position) -> tuple[Position, ...]:
    return tuple(position if p.id == position.id else p for p in state.positions)


def replace_order(state: CampaignState, record: OrderRecord) -> tuple[OrderRecord, ...]:
    cid = record.order.client_order_id
    return tuple(record if o.order.client_order_id == cid else o for o in state.orders)


def apply_fill(state: CampaignState, fill: Fill, now: UtcDatetime) -> Outcome:
    """Book a broker fill: positions open and close on fills, never on intentions.

    A fill delivered twice (same ``fill_id``) changes nothing the second time.
    """
    record = state.order(fill.client_order_id)
    if record is None:
        raise UnknownOrder(f"campaign {state.campaign_id} placed no order {fill.client_order_id}")
    if fill.fill_id in record.fill_ids:
        return Outcome(state)
    if fill.quantity > record.remaining:
        raise Overfill(
            f"fill {fill.fill_id} of {fill.quantity} exceeds the {record.remaining} left on "
            f"order {fill.client_order_id}"
        )
    order = record.order
    position = next(p for p in state.positions if p.id == order.position_id)
    if order.purpose is not OrderPurpose.ENTRY and fill.quantity > position.open_shares:
        raise Overfill(
            f"fill {fill.fill_id} sells {fill.quantity} but position {order.position_id} holds "
            f"{position.open_shares}"
        )
    filled = plus(record.filled_quantity, fill.quantity)
    record = replace(
        record,
        filled_quantity=filled,
        fill_ids=(*record.fill_ids, fill.fill_id),
        status=OrderStatus.FILLED if filled == order.quantity else record.status,
    )
    if order.purpose is OrderPurpose.ENTRY:
        return _book_entry_fill(state, record, position, fill, now)
    return _book_exit_fill(state, record, position, fill, now)


def _book_entry_fill(
    state: CampaignState, record: OrderRecord, position: Position, fill: Fill, now: UtcDatetime
) -> Outcome:
    first_fill = position.status is PositionStatus.PENDING
    shares = plus(position.shares, fill.quantity)
    position = replace(
        position,
        shares=shares,
        # The shares cost what the broker filled them at, not the planned price.
        entry_cost=plus(position.filled_cost, value_of(shares=fill.quantity, price=fill.price)),
        open_shares=plus(position.open_shares, fill.quantity),
        # A fill the campaign no longer expected (its entry was given up on, then filled after
        # all) still counts: the broker's report is the truth, so the position holds it.
        planned_shares=max(position.planned_shares, shares),
        status=PositionStatus.OPEN,
        opened_at=position.opened_at or fill.filled_at,
        closed_at=None,
    )
    status = (
        state.status if state.is_closed else status_after_entry_fill(state.status, position.pattern)
    )
    new_state = replace(
        state,
        positions=replace_position(state, position),
        orders=replace_order(state, record),
        status=status,
        phase=phase_for(status, state.phase),
        version=state.version + 1,
        updated_at=now,
    )
    filled = PositionOpened if first_fill else EntryFilled
    announcements: list[EventData] = [
        filled(
            position_id=position.id,
            pattern=position.pattern,
            shares=fill.quantity,
            price=fill.price,
            stop=position.stop,
            targets=position.targets,
            planned_price=position.entry_price,
            average_price=position.average_entry_price,
        )
    ]
    if status is not state.status:
        announcements.append(StatusChanged(status=status, phase=new_state.phase, by="fill"))
    events = announce(new_state, now, record.order.correlation_id, announcements)
    return Outcome(new_state, events=events)


def _book_exit_fill(
    state: CampaignState, record: OrderRecord, position: Position, fill: Fill, now: UtcDatetime
) -> Outcome:
    order = record.order
    pnl = position.exit_pnl(quantity=fill.quantity, price=fill.price)
    open_shares = difference(high=position.open_shares, low=fill.quantity)
    closes = open_shares == NO_SHARES and position.unfilled_shares == NO_SHARES
    position = replace(
        position,
        open_shares=open_shares,
        pending_exit_shares=max(
            NO_SHARES, difference(high=position.pending_exit_shares, low=fill.quantity)
        ),
        realized_pnl=plus(position.realized_pnl, pnl),
        exits=(
            *position.exits,
            ExitRecord(
                purpose=order.purpose,
                quantity=fill.quantity,
                price=fill.price,
                realized_pnl=pnl,
                at=fill.filled_at,
            ),
        ),
        status=PositionStatus.CLOSED if closes else position.status,
        closed_at=fill.filled_at if closes else position.closed_at,
    )
    new_state = replace(
        state,
        positions=replace_position(state, position),
        orders=replace_order(state, record),
        version=state.version + 1,
        updated_at=now,
    )
    announcements: list[EventData] = [
        ExitExecuted(
            position_id=position.id,
            pattern=position.pattern,
            purpose=order.purpose,
            quantity=fill.quantity,
            price=fill.price,
            realized_pnl=pnl,
            open_shares=open_shares,
        )
    ]
    finished = new_state.all_positions_closed and not any(
        o.status is OrderStatus.OPEN for o in new_state.orders
    )
    if finished and new_state.closed_at is None:
        new_state, final = finish(new_state, now)
        announcements.append(final)
    return Outcome(new_state, events=announce(new_state, now, order.correlation_id, announcements))


def is_done(state: CampaignState) -> bool:
    """Every position closed, having traded, with no order left at the broker: the campaign
    ends (a campaign whose entries all ended unfilled stays open for its next signal)."""
    return (
        state.closed_at is None
        and state.all_positions_closed
        and any(p.shares > NO_SHARES for p in state.positions)
        and not any(o.status is OrderStatus.OPEN for o in state.orders)
    )


def finish(state: CampaignState, now: UtcDatetime) -> tuple[CampaignState, EventData]:
    """Every position is closed: COMPLETED, unless it was invalidated on the way."""
    realized = state.realized_pnl
    initial_risk = total(p.initial_risk for p in state.positions)
    closed = state.status is CampaignStatus.INVALIDATED
    final = AllPositionsExited if closed else CampaignCompleted
    metrics = final(
        realized_pnl=realized,
        r_multiple=r_multiple(pnl=realized, initial_risk=initial_risk),
        total_allocation=state.total_allocation,
        positions=len(state.positions),
    )
    status = state.status if closed else CampaignStatus.COMPLETED
    return replace(state, status=status, closed_at=now), metrics
