"""What the price publisher knows of each campaign it sends bars to: the market time of the
last bar it surely took, and of a bar sent to it that it may or may not have taken. From these
it decides the bar a campaign gets next (SPEC section 9), and they are what the journal
records before each send (db/price_intake.py's ``price_deliveries``)."""

from collections import deque
from collections.abc import Sequence
from datetime import datetime

import structlog

from campaign_engine.db.price_deliveries import Delivery
from campaign_engine.domain.bar_coalescing import merge_all
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.targets import OpenCampaign

log = structlog.get_logger("campaign_engine.price_feed.publisher")


class CampaignCursors:
    def __init__(self) -> None:
        self._sent_until: dict[str, datetime] = {}
        # Campaign -> the end of a bar sent to it that it may or may not have taken.
        self._uncertain: dict[str, datetime] = {}

    @property
    def uncertain(self) -> int:
        return len(self._uncertain)

    def restore(self, deliveries: Sequence[Delivery]) -> None:
        for d in deliveries:
            if d.delivered_until is not None:
                self._sent_until[d.campaign_id] = d.delivered_until
            if d.delivered_until is None or d.sending_until > d.delivered_until:
                self._uncertain[d.campaign_id] = d.sending_until

    def missed(self, campaign: OpenCampaign, history: deque[PriceUpdate]) -> PriceUpdate | None:
        """The bar ``campaign`` is to get next: what it has not had, or, after a send that may
        have failed, exactly that send's span."""
        since = self._sent_until.get(campaign.campaign_id, campaign.opened_at)
        cap = self._uncertain.get(campaign.campaign_id)
        missed = []
        for bar in reversed(history):  # usually only the newest bar is missing
            if bar.as_of <= since:
                break
            missed.append(bar)
        if cap is not None:
            span = [bar for bar in missed if bar.as_of <= cap]
            if span:
                missed = span
            else:  # nothing left of that span to send again
                del self._uncertain[campaign.campaign_id]
        if not missed:
            return None
        if history[0].as_of > since and campaign.campaign_id in self._sent_until:
            log.error("price_history_exhausted", campaign_id=campaign.campaign_id, since=since)
        return merge_all(reversed(missed))

    def arrived_all(self) -> dict[str, datetime]:
        """Per campaign not in doubt, the last bar it took."""
        return {c: t for c, t in self._sent_until.items() if c not in self._uncertain}

    def journal_entry(self, campaign_id: str, bar: PriceUpdate) -> Delivery:
        """What the journal records before ``bar`` is sent to the campaign."""
        return Delivery(campaign_id, self._sent_until.get(campaign_id), bar.as_of)

    def sending(self, campaign_id: str, bar: PriceUpdate) -> datetime | None:
        """``bar`` is on its way: uncertain until the campaign says it has it. The doubt it
        replaces (an earlier send's span), if any."""
        doubt = self._uncertain.get(campaign_id)
        self._uncertain[campaign_id] = bar.as_of
        return doubt

    def arrived(self, campaign_id: str, bar: PriceUpdate) -> None:
        self._sent_until[campaign_id] = bar.as_of
        self._uncertain.pop(campaign_id, None)

    def not_sent(self, campaign_id: str, doubt: datetime | None) -> None:
        """Not delivered: the next send merges the bar in. After an earlier doubt, the bar sent
        was that doubt's span again, which stays in doubt."""
        if doubt is None:
            del self._uncertain[campaign_id]

    def forget(self, campaign_id: str) -> None:
        """The campaign has ended."""
        self._sent_until.pop(campaign_id, None)
        self._uncertain.pop(campaign_id, None)
