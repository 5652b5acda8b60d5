"""Notification channels: where campaign events are announced. The outbox relay
(activities/outbox_relay.py) sends them every event that persistence recorded; a failing channel
is logged and skipped, so it can never hold up trading."""

from typing import Protocol

import httpx
import structlog
from pydantic import TypeAdapter

from campaign_engine.domain.events import CampaignEvent

log = structlog.get_logger("campaign_engine.notifications")
_EVENT = TypeAdapter(CampaignEvent)


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
            **{f"data_{k}": v for k, v in event.data.items()},
        )


def summarize(event: CampaignEvent) -> str:
    details = ", ".join(f"{k}={v}" for k, v in event.data.items() if v not in (None, ""))
    return f"[{event.campaign_id}] {event.type.value} (v{event.version}): {details}"


class WebhookChannel:
    """A chat-style webhook (Slack/Mattermost-compatible ``{"text": ...}``), with the event."""

    name = "webhook"

    def __init__(self, url: str, *, timeout_seconds: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout_seconds

    async def send(self, event: CampaignEvent) -> None:
        body = {"text": summarize(event), "event": _EVENT.dump_python(event, mode="json")}
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self._url, json=body)
            response.raise_for_status()
