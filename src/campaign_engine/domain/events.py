"""Events a campaign announces (SPEC section 7). Each carries a UTC timestamp and the
correlation id of the signal or price update that caused it."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pydantic import JsonValue

from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import EventType

EventValue = str | int | bool | Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignEvent:
    event_id: str
    type: EventType
    campaign_id: str
    version: int
    occurred_at: UtcDatetime
    correlation_id: str
    data: dict[str, JsonValue]


def make_event(
    event_type: EventType,
    *,
    campaign_id: str,
    version: int,
    occurred_at: UtcDatetime,
    correlation_id: str,
    sequence: int,
    data: Mapping[str, EventValue],
) -> CampaignEvent:
    """The event id is derived, not random: replaying a decision yields the same ids, so the
    audit trail can refuse a second copy of an event by its key. ``sequence`` tells apart the
    events one change raises."""
    return CampaignEvent(
        event_id=f"{campaign_id}:v{version}:{correlation_id}:{sequence}",
        type=event_type,
        campaign_id=campaign_id,
        version=version,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        # Decimals travel as strings so that no consumer ever reads money as a float.
        data={k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()},
    )
