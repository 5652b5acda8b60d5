"""Campaign events as JSON: the one shape of an event outside the engine, in the audit trail,
the outbox and the webhook.

    {"event_id": "AAPL-2024-10-15:v2:<correlation>:0", "type": "CampaignUpdated",
     "campaign_id": "AAPL-2024-10-15", "version": 2, "occurred_at": "2024-10-15T14:31:00Z",
     "correlation_id": "<signal id or price update>",
     "data": {"kind": "ExitsTriggered", "price": "150.00",
              "stops_moved": [{"pattern": "SPRING", "previous_stop": "147.00",
                               "stop": "148.50"}],
              "exit_orders": [{"client_order_id": "AAPL-2024-10-15:SPRING:TARGET_1",
                               "quantity": "166"}]}}

``type`` is SPEC section 7's name; ``data.kind`` names the change exactly (several kinds are a
``CampaignUpdated``). Money, prices and shares are decimal strings, never floats; lists are
JSON arrays.
"""

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue, TypeAdapter

from campaign_engine.domain.events import CampaignEvent, EventData

EVENT_DATA: TypeAdapter[EventData] = TypeAdapter(EventData)
_EVENT = TypeAdapter(CampaignEvent)


def _kind_first(data: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {"kind": data.pop("kind"), **data}


def event_data(event: CampaignEvent) -> dict[str, JsonValue]:
    """The ``data`` of an event as JSON."""
    return _kind_first(EVENT_DATA.dump_python(event.data, mode="json"))


def event_to_json(event: CampaignEvent) -> dict[str, JsonValue]:
    envelope: dict[str, Any] = _EVENT.dump_python(event, mode="json")
    return {
        "event_id": envelope["event_id"],
        "type": event.type.value,
        "campaign_id": envelope["campaign_id"],
        "version": envelope["version"],
        "occurred_at": envelope["occurred_at"],
        "correlation_id": envelope["correlation_id"],
        "data": _kind_first(envelope["data"]),
    }


def event_from_json(record: Mapping[str, Any]) -> CampaignEvent:
    """An event from its JSON shape (or an audit trail row of the same names). Raises
    ValueError (pydantic's ValidationError is one) for a shape this version cannot read, such
    as a ``type`` that does not go with its ``data.kind``."""
    event = _EVENT.validate_python({k: v for k, v in record.items() if k != "type"})
    if "type" in record and record["type"] != event.type.value:
        raise ValueError(
            f"event {event.event_id}: a {event.data.kind} is a {event.type.value}, "
            f"not a {record['type']}"
        )
    return event
