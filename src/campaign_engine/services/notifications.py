"""Notification channels: where campaign events are announced. The outbox relay
(services/outbox_relay.py) sends them every event that persistence recorded; a failing channel
is logged and skipped, so it can never hold up trading."""

from typing import Protocol

import httpx
import structlog
from pydantic import JsonValue

from campaign_engine.domain.events import CampaignEvent
from campaign_engine.formats.event_json import event_data, event_to_json

log = structlog.get_logger("campaign_engine.notifications")


class Channel(Protocol):
    name: str

    async def send(self, event: CampaignEvent) -> None: ...


class LogChannel:
    """Events as structured log lines (the default channel)."""

    name = "log"

    async def send(self, event: CampaignEvent) -> None:
        log.info(
            "campaign_event",
            event_type=event.type.value,
            campaign_id=event.campaign_id,
            version=event.version,
            correlation_id=event.correlation_id,
            event_id=event.event_id,
            **{f"data_{k}": v for k, v in event_data(event).items()},
        )


def _text(value: JsonValue) -> str:
    """A JSON value as a person reads it: an order as "id x quantity", a list joined."""
    if isinstance(value, list):
        return "; ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return " ".join(_text(item) for item in value.values())
    return str(value)


def summarize(event: CampaignEvent) -> str:
    """One line for a chat: the kind of change and what it carries, empty fields left out."""
    data = event_data(event)
    kind = data.pop("kind")
    details = ", ".join(f"{k}={_text(v)}" for k, v in data.items() if v not in (None, "", []))
    return f"[{event.campaign_id}] {event.type.value} {kind} (v{event.version}): {details}"


class WebhookChannel:
    """A chat-style webhook (Slack/Mattermost-compatible ``{"text": ...}``), with the event."""

    name = "webhook"

    def __init__(self, url: str, *, timeout_seconds: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout_seconds

    async def send(self, event: CampaignEvent) -> None:
        body = {"text": summarize(event), "event": event_to_json(event)}
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self._url, json=body)
            response.raise_for_status()
