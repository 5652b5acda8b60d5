"""The campaign aggregate: every command takes a state and an input and returns the new state
with the effects to carry out (orders to place or cancel, events to announce).

The functions are pure and deterministic: the same state and input always give the same
outcome, ids included. That is what lets a Temporal workflow be a thin shell around them.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from campaign_engine.domain.allocation import Allocation
from campaign_engine.domain.entry import Rejection, evaluate_entry, precheck_entry
from campaign_engine.domain.errors import (
    NoCampaign,
    Overfill,
    UnknownOrder,
    WrongSymbol,
)
from campaign_engine.domain.events import CampaignEvent, EventValue, make_event
from campaign_engine.domain.exits import (
    default_targets,
    downside_fill_price,
    invalidation_level,
    is_invalidated,
    is_stopped,
    reach_targets,
)
from campaign_engine.domain.ledger import r_multiple
from campaign_engine.domain.lifecycle import (
    phase_for,
    require_open,
    require_operator_transition,
    require_version,
    status_after_entry_fill,
)
from campaign_engine.domain.limits import (
    Exposure,
    PortfolioView,
    heat_alert_level,
)
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.money import ZERO
from campaign_engine.domain.orders import Fill, Order, OrderRecord, client_order_id
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.positions import ExitRecord, Position
from campaign_engine.domain.state import CampaignState, position_uuid
from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import (
    CampaignStatus,
    EventType,
    OrderPurpose,
    OrderSide,
    OrderStatus,
    OrderType,
    Pattern,
    PositionStatus,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's result: the new state and what to do about it, in order."""

    state: CampaignState
    orders: tuple[Order, ...] = ()
    cancellations: tuple[str, ...] = ()
    events: tuple[CampaignEvent, ...] = ()
    plan: AllocationPlan | None = None

    @property
    def changed(self) -> bool:
        return bool(self.orders or self.cancellations or self.events)


Announcement = tuple[EventType, Mapping[str, EventValue]]


def _announce(
    state: CampaignState, now: UtcDatetime, correlation_id: str, items: Sequence[Announcement]
) -> tuple[CampaignEvent, ...]:
    return tuple(
        make_event(
            event_type,
            campaign_id=state.campaign_id,
            version=state.version,
            occurred_at=now,
            correlation_id=correlation_id,
            sequence=index,
            data=data,
        )
        for index, (event_type, data) in enumerate(items)
    )


def exposure_of(state: CampaignState) -> Exposure:
    """The campaign's contribution to portfolio heat."""
    return Exposure(
        campaign_id=state.campaign_id,
        symbol=state.symbol,
        open_risk=state.open_risk,
        reserved_risk=state.reserved_risk,
    )


# --- entries -----------------------------------------------------------------------------


def decide_entry(
    state: CampaignState,
    signal: EntrySignal,
    portfolio: PortfolioView,
    policy: Policy,
    now: UtcDatetime,
) -> Outcome:
    """Decide an entry signal (SPEC section 3) and apply the decision.

    A rejection changes nothing about the campaign; the plan is still remembered so the same
    ``signal_id`` always returns its first decision, with no new effects.
    """
    previous = state.plan_for(signal.signal_id)
    if previous is not None:
        return Outcome(state, plan=previous)
    state = state_for_signal(state, signal)
    return apply_decision(
        state, signal, evaluate_entry(state, signal, portfolio, policy, now), policy, now
    )


def state_for_signal(state: CampaignState | None, signal: EntrySignal) -> CampaignState:
    """The state a signal is decided against: the campaign's own, or a blank one for the
    signal's range while no campaign holds the id (then the newest range defines it)."""
    if state is None:
        return CampaignState.for_range(signal.trading_range)
    renewed = (
        not state.exists
        and signal.campaign_id == state.campaign_id
        and signal.trading_range.id != state.trading_range.id
    )
    if renewed:
        return replace(CampaignState.for_range(signal.trading_range), plans=state.plans)
    return state


def prepare_entry(
    state: CampaignState | None, signal: EntrySignal, policy: Policy
) -> tuple[CampaignState, AllocationPlan | Rejection | Allocation]:
    """An entry up to the point where the portfolio would be asked: the state it is decided
    against, and its earlier plan (a known signal id), its rejection by rules 1-8, or the
    allocation to ask the portfolio to admit (rules 9-10). The workflow and the activity that
    reserves a run's first entry ask the portfolio on exactly this."""
    state = state_for_signal(state, signal)
    known = state.plan_for(signal.signal_id)
    if known is not None:
        return state, known
    return state, precheck_entry(state, signal, policy)


def apply_decision(
    state: CampaignState,
    signal: EntrySignal,
    plan: AllocationPlan,
    policy: Policy,
    now: UtcDatetime,
) -> Outcome:
    """Carry out a decided plan: an approval books a pending position and its entry order; a
    rejection changes nothing but remembering the plan."""
    if plan.approved:
        return _approve(state, signal, plan, policy, now)
    return _reject(state, signal, plan, now)


def _reject(
    state: CampaignState, signal: EntrySignal, plan: AllocationPlan, now: UtcDatetime
) -> Outcome:
    new_state = replace(state, plans=(*state.plans, plan))
    correlation_id = str(signal.signal_id)
    events = _announce(
        new_state,
        now,
        correlation_id,
        [
            (
                EventType.ALLOCATION_REJECTED,
                {
                    "signal_id": correlation_id,
                    "pattern": signal.pattern.value,
                    "code": plan.rejection_code.value if plan.rejection_code else None,
                    "reason": plan.rejection_reason,
                },
            )
        ],
    )
    return Outcome(new_state, events=events, plan=plan)


def _approve(
    state: CampaignState,
    signal: EntrySignal,
    plan: AllocationPlan,
    policy: Policy,
    now: UtcDatetime,
) -> Outcome:
    shares, actual_risk_pct = plan.shares, plan.actual_risk_pct
    assert plan.weight is not None
    position = Position(
        id=position_uuid(state.id, signal.pattern),
        campaign_id=state.campaign_id,
        signal_id=signal.signal_id,
        pattern=signal.pattern,
        symbol=signal.symbol,
        entry_price=signal.entry_price,
        initial_stop=signal.stop_loss,
        stop=signal.stop_loss,
        targets=signal.targets or default_targets(signal.entry_price, state.trading_range),
        weight=plan.weight,
        risk_pct=actual_risk_pct,
        planned_shares=shares,
        approved_at=now,
    )
    correlation_id = str(signal.signal_id)
    order = Order(
        client_order_id=client_order_id(state.campaign_id, signal.pattern, OrderPurpose.ENTRY),
        campaign_id=state.campaign_id,
        position_id=position.id,
        symbol=signal.symbol,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        purpose=OrderPurpose.ENTRY,
        quantity=shares,
        limit_price=signal.entry_price,
        expected_price=signal.entry_price,
        created_at=now,
        correlation_id=correlation_id,
    )
    created = not state.exists
    new_state = replace(
        state,
        positions=(*state.positions, position),
        orders=(*state.orders, OrderRecord(order=order)),
        plans=(*state.plans, plan),
        total_allocation=state.total_allocation + actual_risk_pct,
        version=state.version + 1,
        created_at=state.created_at or now,
        updated_at=now,
    )
    entry: dict[str, EventValue] = {
        "pattern": signal.pattern.value,
        "signal_id": correlation_id,
        "shares": shares,
        "entry_price": signal.entry_price,
        "stop_loss": signal.stop_loss,
        "risk_pct": actual_risk_pct,
        "weight": plan.weight,
        "total_allocation": new_state.total_allocation,
    }
    announcements: list[Announcement] = [
        (
            EventType.CAMPAIGN_CREATED,
            {**entry, "symbol": state.symbol, "trading_range_id": str(state.trading_range.id)},
        )
        if created
        else (EventType.CAMPAIGN_UPDATED, {**entry, "change": "entry approved"})
    ]
    heat_after = plan.heat_after_pct if plan.heat_after_pct is not None else actual_risk_pct
    before = heat_alert_level(heat_after - actual_risk_pct, policy)
    after = heat_alert_level(heat_after, policy)
    if after.severity > before.severity:
        announcements.append(
            (
                EventType.PORTFOLIO_HEAT_ALERT,
                {"level": after.value, "heat_pct": heat_after, "previous": before.value},
            )
        )
    events = _announce(new_state, now, correlation_id, announcements)
    return Outcome(new_state, orders=(order,), events=events, plan=plan)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Decisions of a batch, in the order they were made (priority order)."""

    outcomes: tuple[Outcome, ...]
    states: Mapping[str, CampaignState] = field(default_factory=dict)
    portfolio: PortfolioView | None = None


def decide_batch(
    states: Mapping[str, CampaignState],
    signals: Sequence[EntrySignal],
    portfolio: PortfolioView,
    policy: Policy,
    now: UtcDatetime,
    order: Callable[[Sequence[EntrySignal]], list[EntrySignal]],
) -> BatchOutcome:
    """Decide competing signals one by one in ``order`` (FR28 prioritisation), each seeing
    the risk the ones before it reserved, so the best signals get the budget."""
    current = dict(states)
    outcomes: list[Outcome] = []
    for signal in order(signals):
        state = current.get(signal.campaign_id) or CampaignState.for_range(signal.trading_range)
        outcome = decide_entry(state, signal, portfolio, policy, now)
        current[signal.campaign_id] = outcome.state
        if outcome.state.exists:
            portfolio = portfolio.with_exposure(exposure_of(outcome.state))
        outcomes.append(outcome)
    return BatchOutcome(tuple(outcomes), current, portfolio)


# --- fills -------------------------------------------------------------------------------


def _replace_position(state: CampaignState, position: Position) -> tuple[Position, ...]:
    return tuple(position if p.id == position.id else p for p in state.positions)


def _replace_order(state: CampaignState, record: OrderRecord) -> tuple[OrderRecord, ...]:
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
    filled = record.filled_quantity + fill.quantity
    record = replace(
        record,
        filled_quantity=filled,
        fill_ids=(*record.fill_ids, fill.fill_id),
        status=OrderStatus.FILLED if filled == order.quantity else record.status,
    )
    position = next(p for p in state.positions if p.id == order.position_id)
    if order.purpose is OrderPurpose.ENTRY:
        return _book_entry_fill(state, record, position, fill, now)
    return _book_exit_fill(state, record, position, fill, now)


def _book_entry_fill(
    state: CampaignState, record: OrderRecord, position: Position, fill: Fill, now: UtcDatetime
) -> Outcome:
    first_fill = position.status is PositionStatus.PENDING
    position = replace(
        position,
        shares=position.shares + fill.quantity,
        open_shares=position.open_shares + fill.quantity,
        status=PositionStatus.OPEN,
        opened_at=position.opened_at or fill.filled_at,
    )
    status = status_after_entry_fill(state.status, position.pattern)
    new_state = replace(
        state,
        positions=_replace_position(state, position),
        orders=_replace_order(state, record),
        status=status,
        phase=phase_for(status, state.phase),
        version=state.version + 1,
        updated_at=now,
    )
    announcements: list[Announcement] = [
        (
            EventType.POSITION_OPENED if first_fill else EventType.CAMPAIGN_UPDATED,
            {
                "position_id": str(position.id),
                "pattern": position.pattern.value,
                "shares": fill.quantity,
                "price": fill.price,
                "stop": position.stop,
                "targets": ", ".join(str(t) for t in position.targets),
                "change": "entry filled",
            },
        )
    ]
    if status is not state.status:
        announcements.append(
            (
                EventType.CAMPAIGN_UPDATED,
                {"change": "status", "status": status.value, "phase": new_state.phase.value},
            )
        )
    events = _announce(new_state, now, record.order.correlation_id, announcements)
    return Outcome(new_state, events=events)


def _book_exit_fill(
    state: CampaignState, record: OrderRecord, position: Position, fill: Fill, now: UtcDatetime
) -> Outcome:
    order = record.order
    pnl = (fill.price - position.entry_price) * fill.quantity
    open_shares = position.open_shares - fill.quantity
    closes = open_shares == ZERO and position.unfilled_shares == ZERO
    position = replace(
        position,
        open_shares=open_shares,
        pending_exit_shares=max(ZERO, position.pending_exit_shares - fill.quantity),
        realized_pnl=position.realized_pnl + pnl,
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
        positions=_replace_position(state, position),
        orders=_replace_order(state, record),
        version=state.version + 1,
        updated_at=now,
    )
    announcements: list[Announcement] = [
        (
            EventType.EXIT_EXECUTED,
            {
                "position_id": str(position.id),
                "pattern": position.pattern.value,
                "purpose": order.purpose.value,
                "quantity": fill.quantity,
                "price": fill.price,
                "realized_pnl": pnl,
                "open_shares": open_shares,
            },
        )
    ]
    finished = new_state.all_positions_closed and not any(
        o.status is OrderStatus.OPEN for o in new_state.orders
    )
    if finished and new_state.closed_at is None:
        new_state, final = _finish(new_state, now)
        announcements.append(final)
    return Outcome(new_state, events=_announce(new_state, now, order.correlation_id, announcements))


def _finish(state: CampaignState, now: UtcDatetime) -> tuple[CampaignState, Announcement]:
    """Every position is closed: COMPLETED, unless it was invalidated on the way."""
    realized = state.realized_pnl
    initial_risk = sum((p.initial_risk for p in state.positions), ZERO)
    metrics: dict[str, EventValue] = {
        "realized_pnl": realized,
        "r_multiple": r_multiple(realized, initial_risk),
        "total_allocation": state.total_allocation,
        "positions": len(state.positions),
    }
    if state.status is CampaignStatus.INVALIDATED:
        closed = replace(state, closed_at=now)
        return closed, (EventType.CAMPAIGN_UPDATED, {"change": "all positions exited", **metrics})
    completed = replace(state, status=CampaignStatus.COMPLETED, closed_at=now)
    return completed, (EventType.CAMPAIGN_COMPLETED, {"status": "COMPLETED", **metrics})


# --- prices ------------------------------------------------------------------------------


def _exit_order(
    state: CampaignState,
    position: Position,
    purpose: OrderPurpose,
    quantity: Decimal,
    expected_price: Decimal,
    limit_price: Decimal | None,
    now: UtcDatetime,
    correlation_id: str,
) -> Order:
    return Order(
        client_order_id=client_order_id(state.campaign_id, position.pattern, purpose),
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
    )


def is_stale(state: CampaignState, update: PriceUpdate) -> bool:
    """Not newer than the last update seen (by time, and by sequence when both carry one)."""
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
    target is a stop."""
    if update.symbol != state.symbol:
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
    if not state.exists or state.is_closed:
        return Outcome(state)

    level = invalidation_level(state.trading_range, state.position_for(Pattern.SPRING))
    if level is not None and is_invalidated(level, update):
        price = downside_fill_price(level, update)
        reason = f"invalidation level {level} breached (low {update.bar_low})"
        return _invalidate(state, reason, lambda _: price, now, correlation_id)

    orders: list[Order] = []
    positions: list[Position] = []
    for position in state.positions:
        if not position.is_open or position.sellable_shares <= ZERO:
            positions.append(position)
        elif is_stopped(position, update):
            quantity = position.sellable_shares
            price = downside_fill_price(position.stop, update)
            orders.append(
                _exit_order(
                    state, position, OrderPurpose.STOP, quantity, price, None, now, correlation_id
                )
            )
            positions.append(
                replace(position, pending_exit_shares=position.pending_exit_shares + quantity)
            )
        else:
            reached = reach_targets(position, update, policy)
            for intent in reached.exits:
                orders.append(
                    _exit_order(
                        state,
                        position,
                        intent.purpose,
                        intent.quantity,
                        intent.price,
                        intent.level,
                        now,
                        correlation_id,
                    )
                )
            positions.append(reached.position)

    if tuple(positions) == state.positions:
        return Outcome(state)
    new_state = replace(
        state, positions=tuple(positions), version=state.version + 1, updated_at=now
    )
    new_state = replace(
        new_state, orders=(*new_state.orders, *(OrderRecord(order=o) for o in orders))
    )
    moved = [
        f"{after.pattern.value} stop {before.stop} -> {after.stop}"
        for before, after in zip(state.positions, positions, strict=True)
        if after.stop != before.stop
    ]
    events = _announce(
        new_state,
        now,
        correlation_id,
        [
            (
                EventType.CAMPAIGN_UPDATED,
                {
                    "change": "exits triggered" if orders else "stops trailed",
                    "exit_orders": ", ".join(f"{o.client_order_id} x{o.quantity}" for o in orders),
                    "stops": "; ".join(moved),
                    "price": update.last,
                },
            )
        ],
    )
    return Outcome(new_state, orders=tuple(orders), events=events)


# --- invalidation and operator commands ----------------------------------------------------


def _invalidate(
    state: CampaignState,
    reason: str,
    exit_price: Callable[[Position], Decimal],
    now: UtcDatetime,
    correlation_id: str,
) -> Outcome:
    """Exit every open share at once and cancel entries that have not filled."""
    orders: list[Order] = []
    cancellations: list[str] = []
    positions: list[Position] = []
    records = list(state.orders)
    for position in state.positions:
        if position.sellable_shares > ZERO:
            quantity = position.sellable_shares
            orders.append(
                _exit_order(
                    state,
                    position,
                    OrderPurpose.INVALIDATION,
                    quantity,
                    exit_price(position),
                    None,
                    now,
                    correlation_id,
                )
            )
            position = replace(
                position, pending_exit_shares=position.pending_exit_shares + quantity
            )
        if position.unfilled_shares > ZERO:
            entry_id = client_order_id(state.campaign_id, position.pattern, OrderPurpose.ENTRY)
            cancellations.append(entry_id)
            records = [
                replace(r, status=OrderStatus.CANCELLED)
                if r.order.client_order_id == entry_id
                else r
                for r in records
            ]
            nothing_held = position.open_shares == ZERO
            position = replace(
                position,
                planned_shares=position.shares,
                status=PositionStatus.CLOSED if nothing_held else position.status,
                closed_at=now if nothing_held else position.closed_at,
            )
        positions.append(position)
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
    events = _announce(
        new_state,
        now,
        correlation_id,
        [
            (
                EventType.CAMPAIGN_INVALIDATED,
                {
                    "reason": reason,
                    "exit_orders": ", ".join(f"{o.client_order_id} x{o.quantity}" for o in orders),
                    "cancelled_orders": ", ".join(cancellations),
                },
            )
        ],
    )
    return Outcome(new_state, tuple(orders), tuple(cancellations), events)


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
    return _invalidate(
        state, reason, lambda p: last if last is not None else p.entry_price, now, correlation_id
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
    events = _announce(
        new_state,
        now,
        correlation_id,
        [
            (
                EventType.CAMPAIGN_UPDATED,
                {
                    "change": "status (operator)",
                    "status": status.value,
                    "phase": new_state.phase.value,
                },
            )
        ],
    )
    return Outcome(new_state, events=events)
