"""Events a campaign announces (SPEC section 7). Each carries a UTC timestamp and the
correlation id of the signal or price update that caused it."""

from collections.abc import Mapping
from decimal import Decimal
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, JsonValue

from campaign_engine.domain.types import UtcDatetime
from campaign_engine.domain.vocabulary import EventType

# Event ids are derived, not random, so that replaying a decision yields the same ids and the
# audit trail can refuse a second copy of an event by its primary key.
_EVENT_NAMESPACE = UUID("6f1c8a0e-3b1d-4f5e-9a57-0c2b7d4e8a11")

EventValue = str | int | bool | Decimal | None


class CampaignEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
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
    """``sequence`` tells apart events of one type raised by the same change."""
    key = f"{campaign_id}|{correlation_id}|{version}|{event_type.value}|{sequence}"
    return CampaignEvent(
        event_id=uuid5(_EVENT_NAMESPACE, key),
        type=event_type,
        campaign_id=campaign_id,
        version=version,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        # Decimals travel as strings so that no consumer ever reads money as a float.
        data={k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()},
    )
