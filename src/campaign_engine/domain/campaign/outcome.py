"""What a campaign command gives back: the new state and the effects to carry out, and the
helpers every command shares to announce its events and state its exposure."""

from collections.abc import Sequence
from dataclasses import dataclass

from campaign_engine.domain.events import CampaignEvent, EventData, make_event
from campaign_engine.domain.limits import Exposure
from campaign_engine.domain.orders import Order
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import UtcDatetime


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


def announce(
    state: CampaignState, now: UtcDatetime, correlation_id: str, items: Sequence[EventData]
) -> tuple[CampaignEvent, ...]:
    """The events of one change to ``state``, in the order given (which numbers their ids)."""
    return tuple(
        make_event(
            data,
            campaign_id=state.campaign_id,
            version=state.version,
            occurred_at=now,
            correlation_id=correlation_id,
            sequence=index,
        )
        for index, data in enumerate(items)
    )


def exposure_of(state: CampaignState) -> Exposure:
    """The campaign's contribution to portfolio heat."""
    return Exposure(
        campaign_id=state.campaign_id,
        symbol=state.symbol,
        open_risk=state.open_risk,
        reserved_risk=state.reserved_risk,
    )
