"""Sending one bar to one campaign: at most ``concurrency`` sends at once, the campaign's cursor
moved by the outcome (price_feed/recipients.py), each send in the trace of the request that
accepted its newest price, and its delay from that acceptance measured.

A campaign that is gone (ended) is forgotten; a send that failed leaves the campaign where it
was, and catch-ups wait out the shared backoff (``next_try``) while new bars are still tried
as they come."""

import asyncio
from collections.abc import Awaitable, Callable
from enum import Enum

import structlog

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.recipients import CampaignCursors
from campaign_engine.price_feed.targets import Gone, SendFailed
from campaign_engine.runtime import price_metrics, tracing
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.price_feed.publisher")

Sender = Callable[[str, PriceUpdate], Awaitable[None]]


class Sent(Enum):
    ARRIVED = "arrived"
    GONE = "gone"  # the campaign has ended: forgotten
    FAILED = "failed"  # to be sent again


class BarSender:
    def __init__(
        self,
        send: Sender,
        campaigns: CampaignCursors,
        *,
        concurrency: int,
        clock: Callable[[], float],
    ) -> None:
        self._send = send
        self._campaigns = campaigns
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock
        # Capped low: a bar waits out at most this once what was down is back.
        self._retry = Retry("temporal", log, loop="price_publisher", backoff=Backoff(cap=5.0))
        self.next_try = float("-inf")  # the clock's time catch-ups may send again

    async def send(
        self,
        campaign_id: str,
        update: PriceUpdate,
        trace: str | None,
        accepted_at: float | None = None,
    ) -> Sent:
        """Send ``update`` to the campaign; ``trace``: the traceparent to send it in,
        ``accepted_at``: when its oldest price was accepted (None for a bar sent again)."""
        doubt = self._campaigns.sending(campaign_id, update)
        sent_in = {"campaign.id": campaign_id, "price.symbol": update.symbol}
        async with self._limit:
            try:
                with tracing.continued(trace, "PriceFeed:send", sent_in):
                    await self._send(campaign_id, update)
            except Gone:
                self._campaigns.forget(campaign_id)
                return Sent.GONE
            except SendFailed as error:
                self._campaigns.not_sent(campaign_id, doubt)
                self.next_try = self._clock() + self._retry.failed(error)
                return Sent.FAILED
        self._retry.succeeded()
        self._campaigns.arrived(campaign_id, update)
        price_metrics.delivered(accepted_at)
        return Sent.ARRIVED
