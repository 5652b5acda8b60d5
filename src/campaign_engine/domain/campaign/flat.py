"""Flat means flat: a campaign that has ended (INVALIDATED) while its exits could not sell
every share (the broker refused them, ``MAX_EXIT_ATTEMPTS`` used up) is not done until it holds
nothing. Its unsold shares are offered again at market, on each later price and, between
prices, after the workflow's backoff, each try announced (``FlatteningRetried``); meanwhile
``awaiting_flat`` says so (the Temporal UI and the API show it)."""

from collections.abc import Iterable
from dataclasses import replace
from typing import Literal

from campaign_engine.domain.campaign.exit_orders import exit_order, legs
from campaign_engine.domain.campaign.fills import replace_position
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.events import FlatteningRetried
from campaign_engine.domain.money import NO_SHARES, plus
from campaign_engine.domain.orders import OrderRecord
from campaign_engine.domain.positions import Position, any_held
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import PriceValue, UtcDatetime
from campaign_engine.domain.vocabulary import CampaignStatus, OrderPurpose


def ended_holding(
    *, status: CampaignStatus, closed_at: UtcDatetime | None, positions: Iterable[Position]
) -> bool:
    """A campaign in ``status`` has ended, but shares it bought are still held at the broker
    (so it is not closed yet): what the Temporal UI and the API call awaiting flat."""
    return status.is_terminal and closed_at is None and any_held(positions)


def awaiting_flat(state: CampaignState) -> bool:
    """The campaign has ended, but shares it bought are still held at the broker."""
    return ended_holding(status=state.status, closed_at=state.closed_at, positions=state.positions)


def needs_flattening(state: CampaignState) -> bool:
    """Ended and holding shares no exit order is selling: nothing is under way to sell them."""
    return awaiting_flat(state) and any(p.sellable_shares > NO_SHARES for p in state.positions)


def retry_flat(
    state: CampaignState,
    price: PriceValue,
    now: UtcDatetime,
    correlation_id: str,
    *,
    trigger: Literal["price", "backoff"],
) -> Outcome:
    """Sell every share no exit order is selling, at market, expected at ``price``; nothing
    when there are none."""
    if not needs_flattening(state):
        return Outcome(state)
    purpose = (
        OrderPurpose.INVALIDATION
        if state.status is CampaignStatus.INVALIDATED
        else OrderPurpose.RECONCILE
    )
    orders = []
    for position in state.positions:
        quantity = position.sellable_shares
        if quantity <= NO_SHARES:
            continue
        order = exit_order(
            state,
            position,
            purpose,
            quantity=quantity,
            expected_price=price,
            limit_price=None,
            now=now,
            correlation_id=correlation_id,
        )
        orders.append(order)
        claimed = replace(
            position, pending_exit_shares=plus(position.pending_exit_shares, quantity)
        )
        state = replace(
            state,
            positions=replace_position(state, claimed),
            orders=(*state.orders, OrderRecord(order=order)),
        )
    state = replace(state, version=state.version + 1, updated_at=max(now, state.updated_at or now))
    retried = FlatteningRetried(
        trigger=trigger,
        price=price,
        held=state.held_shares,
        exit_orders=legs(orders),
    )
    return Outcome(
        state, orders=tuple(orders), events=announce(state, now, correlation_id, [retried])
    )
