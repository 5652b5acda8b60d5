"""Shares gone from the broker's account that the campaign still counts as open (sold by hand
while the engine was down, say): booked once as exits ``BY_HAND`` and announced.

The broker does not say at what price someone else sold, so the exit is booked at the last
price the campaign saw (or the entry price if it saw none), and the announcement says so.
"""

from dataclasses import replace
from decimal import Decimal

from campaign_engine.domain.campaign.exit_orders import exit_order
from campaign_engine.domain.campaign.fills import apply_fill
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.money import NO_SHARES, difference
from campaign_engine.domain.order_events import BrokerDifference
from campaign_engine.domain.orders import Fill, OrderRecord
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import QuantityValue, UtcDatetime
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus

# Shares go missing from the positions entered last first: the latest entry is the one
# a trader closing part of a campaign by hand most likely meant.
_LAST_ENTERED_FIRST = -1


def book_holding(state: CampaignState, available: Decimal) -> tuple[Outcome, ...]:
    """Compare the campaign's open shares with what the broker holds for it (``available``,
    see ``db.holdings``) and book the shortfall, if any. Nothing while an exit is pending."""
    held = state.held_shares
    if any(p.pending_exit_shares > NO_SHARES for p in state.positions):
        return ()
    missing = difference(high=held, low=QuantityValue(max(available, Decimal(0))))
    if missing <= NO_SHARES or state.market_time is None:
        return ()
    now: UtcDatetime = state.market_time
    correlation = f"reconcile:{state.version}"
    outcomes: list[Outcome] = []
    for position in state.positions[::_LAST_ENTERED_FIRST]:
        quantity = min(missing, position.open_shares)
        if quantity <= NO_SHARES:
            continue
        price = state.last_price or position.average_entry_price
        order = exit_order(
            state,
            position,
            OrderPurpose.BY_HAND,
            quantity=quantity,
            expected_price=price,
            limit_price=None,
            now=now,
            correlation_id=correlation,
        )
        claimed = replace(position, pending_exit_shares=quantity)
        state = replace(
            state,
            positions=tuple(claimed if p.id == position.id else p for p in state.positions),
            orders=(*state.orders, OrderRecord(order=order, status=OrderStatus.OPEN)),
        )
        fill = Fill(
            fill_id=f"{order.client_order_id}:reconciled",
            client_order_id=order.client_order_id,
            quantity=quantity,
            price=price,
            filled_at=now,
        )
        booked = apply_fill(state, fill, now)
        state = booked.state
        noticed = BrokerDifference(
            client_order_id=None,
            quantity=quantity,
            description=(
                f"{quantity} shares of {state.symbol} ({position.pattern.value}) are no longer "
                f"held at the broker: booked as sold by hand at {price}, the last price seen "
                "(the broker does not say at what price they were sold)"
            ),
        )
        state = replace(state, version=state.version + 1)
        outcomes.append(booked)
        outcomes.append(Outcome(state, events=announce(state, now, correlation, [noticed])))
        missing = difference(high=missing, low=quantity)
    return tuple(outcomes)
