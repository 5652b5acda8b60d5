"""What the price publisher holds per symbol: the bars it has made (its history, for campaigns
that missed some), the bar it is making (``pending``), and how far in the intake each got."""

import asyncio
from collections import deque
from dataclasses import dataclass, field

import structlog

from campaign_engine.db.price_deliveries import Restored
from campaign_engine.domain.bar_coalescing import merge
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.targets import OpenCampaign

log = structlog.get_logger("campaign_engine.price_feed.publisher")


@dataclass
class SymbolBars:
    history: deque[PriceUpdate]
    pending: PriceUpdate | None = None
    pending_seq: int | None = None  # the newest intake row merged into ``pending``
    # When the oldest update merged into ``pending`` was accepted (seconds since the epoch,
    # for the delivery delay metric; None: not known, as for restored rows).
    pending_since: float | None = None
    flushed_seq: int | None = None  # ... into a bar
    recorded_seq: int | None = None  # ... into a bar the journal knows of
    # The trace of the newest row taken (its request's traceparent): the newest bar, and any
    # bar merged up to it for a campaign that missed some, goes out in it.
    trace: str | None = None
    last_flush: float = float("-inf")
    # Campaigns announced by ``opened`` that the directory may not list yet.
    announced: dict[str, OpenCampaign] = field(default_factory=dict)
    # One flush of a symbol at a time: a bar sent while an older one is still on its way could
    # overtake it, and a campaign drops a bar older than the newest it has (stale), with the
    # bar's high and low.
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)


class Symbols(dict[str, SymbolBars]):
    def __init__(self, retention: int) -> None:
        super().__init__()
        self._retention = retention  # bars kept per symbol for campaigns that missed some
        self.updates_received = 0
        self.updates_too_old = 0

    def entry(self, symbol: str) -> SymbolBars:
        return self.setdefault(symbol, SymbolBars(history=deque(maxlen=self._retention)))

    def restore(self, restored: Restored) -> None:
        """Rows a bar took become history (one bar each: a campaign gets them merged as ever),
        the others pending."""
        for symbol, bars in restored.taken().items():
            self.entry(symbol).history.extend(bars)
        for symbol, seq in restored.flushed.items():
            entry = self.entry(symbol)
            entry.flushed_seq = entry.recorded_seq = seq
        for seq, update in restored.pending():
            self.accept(update, seq)

    def accept(
        self,
        update: PriceUpdate,
        seq: int | None,
        accepted_at: float | None = None,
        traceparent: str | None = None,
    ) -> bool:
        """Merge one update into its symbol's next bar; False when it is older than a bar its
        symbol has made already (no campaign could use it)."""
        self.updates_received += 1
        entry = self.entry(update.symbol)
        if entry.history and update.as_of <= entry.history[-1].as_of:
            # Every campaign has been sent (or will be) the newer bar; this one would be
            # refused as stale by each of them.
            self.updates_too_old += 1
            log.warning(
                "price_too_old",
                symbol=update.symbol,
                as_of=update.as_of.isoformat(),
                newest_sent=entry.history[-1].as_of.isoformat(),
                count=self.updates_too_old,
            )
            return False
        entry.pending = merge(entry.pending, update)
        entry.trace = traceparent
        if seq is not None:
            entry.pending_seq = seq
        if accepted_at is not None:
            since = entry.pending_since
            entry.pending_since = accepted_at if since is None else min(since, accepted_at)
        return True

    def pending_count(self) -> int:
        return sum(e.pending is not None for e in self.values())
