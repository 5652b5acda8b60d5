"""Quarantine (SPEC section 11): what a campaign becomes when one of its changes cannot be
carried out and no retry could cure it (a value the database refuses, a constraint).

The failed change, and every change decided after it, is dropped: the campaign goes back to
the last state that was carried out, which is sound. From there it refuses entries, releases
what it reserved (the unfilled rest of every entry is cancelled at the broker) and keeps
running its exits, so the shares it holds stay protected by their stops. An operator sees the
status and the reason, and ends it with an invalidation; a campaign whose positions all close
completes as any other does.
"""

from dataclasses import replace

from campaign_engine.domain.campaign.exit_orders import give_up_entry
from campaign_engine.domain.campaign.outcome import Outcome, announce
from campaign_engine.domain.events import CampaignQuarantined, OrderLeg
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MAX_TEXT_LENGTH, UtcDatetime
from campaign_engine.domain.vocabulary import CampaignStatus


def quarantine(state: CampaignState, reason: str, now: UtcDatetime, correlation_id: str) -> Outcome:
    """``state`` (the last one carried out) quarantined for ``reason``."""
    reason = reason.strip()[:MAX_TEXT_LENGTH] or "a change could not be carried out"
    cancellations: list[OrderLeg] = []
    positions: list[Position] = []
    records = list(state.orders)
    for position in state.positions:
        positions.append(give_up_entry(state, position, records, cancellations, now))
    status = state.status if state.is_closed else CampaignStatus.QUARANTINED
    new_state = replace(
        state,
        positions=tuple(positions),
        orders=tuple(records),
        status=status,
        quarantine_reason=reason,
        version=state.version + 1,
        updated_at=max(now, state.updated_at) if state.updated_at is not None else now,
    )
    quarantined = CampaignQuarantined(reason=reason, cancelled_orders=tuple(cancellations))
    events = announce(new_state, new_state.updated_at or now, correlation_id, [quarantined])
    cancelled = tuple(leg.client_order_id for leg in cancellations)
    return Outcome(new_state, (), cancelled, events)
