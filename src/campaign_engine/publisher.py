"""Client-side price flow (SPEC section 9): coalesce a symbol's updates into bars and fan each
bar out to the open campaigns on that symbol, a few times a second at most.

Which bars a campaign gets is decided by market time alone: every bar stamped after the entry
signal that opened it (``OpenCampaign.opened_at``) and after the last bar sent to it. A
campaign that missed bars (it opened meanwhile, or a send failed) gets them merged into one,
so every high and low reaches every campaign, however prices flood; the publisher looks for
such campaigns again every ``catch_up`` interval, so the last bar before a quiet spell reaches
a campaign approved just after it too. An update older than the bar its symbol has already
sent is counted and logged (``updates_too_old``), never dropped in silence.

Each new bar of a symbol also goes, in order and before any campaign gets it, to the market
``listeners`` (the simulated exchange, which fills resting orders on it): a fill the bar made
reaches a campaign before the bar does, as at a real venue.

With a ``journal`` (the API's durable intake, db/price_intake.py) the publisher records, before
each send, its cursor per symbol and what it is about to send to whom; started again, it
resumes from there: the rows no bar has taken yet become its first bars. A bar recorded as
sent but not known to have arrived is sent again first, covering exactly the same span (the
campaign takes it, or ignores it whole as stale), before anything newer: a merged bar never
reaches back over prices a campaign has evaluated already, which could otherwise cross a stop
moved up since.
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Self

import structlog

from campaign_engine.backoff import Backoff, Retry
from campaign_engine.db.price_intake import Delivery, Restored
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.prices import merge, merge_all
from campaign_engine.price_targets import CampaignDirectory as CampaignDirectory
from campaign_engine.price_targets import DatabaseDirectory as DatabaseDirectory
from campaign_engine.price_targets import DeliveryJournal as DeliveryJournal
from campaign_engine.price_targets import Gone as Gone
from campaign_engine.price_targets import MarketListener as MarketListener
from campaign_engine.price_targets import OpenCampaign as OpenCampaign
from campaign_engine.price_targets import SendFailed as SendFailed

log = structlog.get_logger("campaign_engine.publisher")

Sender = Callable[[str, PriceUpdate], Awaitable[None]]


@dataclass
class _Symbol:
    history: deque[PriceUpdate]
    pending: PriceUpdate | None = None
    pending_seq: int | None = None  # the newest intake row merged into ``pending``
    flushed_seq: int | None = None  # ... into a bar
    recorded_seq: int | None = None  # ... into a bar the journal knows of
    last_flush: float = float("-inf")
    # Campaigns announced by ``opened`` that the directory may not list yet.
    announced: dict[str, OpenCampaign] = field(default_factory=dict)
    # One flush of a symbol at a time: a bar sent while an older one is still on its way could
    # overtake it, and a campaign drops a bar older than the newest it has (stale), with the
    # bar's high and low.
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)


class PricePublisher:
    def __init__(
        self,
        send: Sender,
        directory: CampaignDirectory,
        *,
        interval: timedelta = timedelta(milliseconds=500),
        retention: int = 10_000,
        catch_up: timedelta = timedelta(seconds=1),
        concurrency: int = 64,
        clock: Callable[[], float] = time.monotonic,
        listeners: Sequence[MarketListener] = (),
        journal: DeliveryJournal | None = None,
        prune_every: timedelta = timedelta(minutes=5),
    ) -> None:
        self._send = send
        self._listeners = tuple(listeners)
        self._directory = directory
        self._journal = journal
        self._interval = interval.total_seconds()
        self._retention = retention  # bars kept per symbol for campaigns that missed some
        self._catch_up = catch_up.total_seconds()
        self._prune_every = prune_every.total_seconds()
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._symbols: dict[str, _Symbol] = {}
        self._sent_until: dict[str, datetime] = {}
        # Campaign -> the end of a bar sent to it that it may or may not have taken.
        self._uncertain: dict[str, datetime] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._restored = asyncio.Event()  # resumed from the journal (or none to resume)
        if journal is None:
            self._restored.set()
        # Capped low: a bar waits out at most this once what was down is back.
        self._sending = Retry("temporal", log, loop="price_publisher", backoff=Backoff(cap=5.0))
        self._recording = Retry("database", log, loop="price_publisher", backoff=Backoff(cap=5.0))
        self._next_send_try = float("-inf")
        self.signals_sent = 0
        self.updates_received = 0
        self.updates_too_old = 0

    async def __aenter__(self) -> Self:
        # Resumed in the flusher, not here: the API starts while the database is down.
        self._flusher = asyncio.create_task(self._flush_when_due())
        return self

    async def ready(self, timeout: float) -> bool:
        """Whether the publisher has resumed from its journal (at once without one) within
        ``timeout`` seconds; nothing may be accepted before."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._restored.wait(), timeout)
        return self._restored.is_set()

    async def _resume(self) -> None:
        if self._journal is None or self._restored.is_set():
            return
        retry = Retry("database", log, loop="price_publisher_resume", backoff=Backoff(cap=5.0))
        while True:
            try:
                restored = await self._journal.restore()
            except Exception as error:
                await retry.pause(error)
            else:
                retry.succeeded()
                self._restore(restored)
                self._restored.set()
                return

    async def __aexit__(self, *exc: object) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self._restored.is_set():
            await self.flush()

    def _entry(self, symbol: str) -> _Symbol:
        return self._symbols.setdefault(symbol, _Symbol(history=deque(maxlen=self._retention)))

    def _restore(self, restored: Restored) -> None:
        """Resume from the journal: rows a bar took become history (one bar each: a campaign
        gets them merged as ever), the others pending; deliveries as recorded."""
        for symbol, bars in restored.taken().items():
            self._entry(symbol).history.extend(bars)
        for symbol, seq in restored.flushed.items():
            entry = self._entry(symbol)
            entry.flushed_seq = entry.recorded_seq = seq
        for seq, update in restored.pending():
            self.accept(update, seq)
        for d in restored.deliveries:
            if d.delivered_until is not None:
                self._sent_until[d.campaign_id] = d.delivered_until
            if d.delivered_until is None or d.sending_until > d.delivered_until:
                self._uncertain[d.campaign_id] = d.sending_until
        if restored.rows or restored.deliveries:
            log.info(
                "price_intake_resumed",
                rows=len(restored.rows),
                pending=sum(e.pending is not None for e in self._symbols.values()),
                uncertain=len(self._uncertain),
            )

    def accept(self, update: PriceUpdate, seq: int | None = None) -> bool:
        """Merge one update into its symbol's next bar, without sending anything; ``seq`` is
        its intake row. False when it is older than a bar its symbol has made already (no
        campaign could use it)."""
        self.updates_received += 1
        entry = self._entry(update.symbol)
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
        if seq is not None:
            entry.pending_seq = seq
        return True

    async def publish(self, update: PriceUpdate, seq: int | None = None) -> bool:
        """``accept`` the update and send its symbol's bar if one is due."""
        accepted = self.accept(update, seq)
        if accepted:
            await self.flush_due([update.symbol])
        return accepted

    async def flush_due(self, symbols: Sequence[str]) -> int:
        """Send the bars of ``symbols`` whose interval has passed since their last one."""
        now = self._clock()
        due = [
            s
            for s in dict.fromkeys(symbols)
            if (e := self._symbols.get(s)) is not None
            and e.pending is not None
            and now - e.last_flush >= self._interval
        ]
        return sum(await asyncio.gather(*(self.flush(s) for s in due)))

    async def opened(self, symbol: str, campaign: OpenCampaign) -> int:
        """A campaign just opened on ``symbol``: send it the bars after its opening signal now,
        without waiting for the directory to list it or for the symbol's next update."""
        entry = self._entry(symbol)
        entry.announced[campaign.campaign_id] = campaign
        return await self.flush(symbol, catch_up=True)

    async def _flush_when_due(self) -> None:
        await self._resume()
        last_catch_up = float("-inf") if self._symbols else self._clock()
        last_prune = self._clock()
        loop = Retry("database", log, loop="price_publisher_flush", backoff=Backoff(cap=5.0))
        while True:
            await asyncio.sleep(self._interval / 2)
            now = self._clock()
            try:
                await self.flush_due(list(self._symbols))
                if now - last_catch_up >= self._catch_up and now >= self._next_send_try:
                    last_catch_up = now
                    await self.flush(catch_up=True)
                if self._journal is not None and now - last_prune >= self._prune_every:
                    last_prune = now
                    pruned = await self._journal.prune(self._retention)
                    log.debug("price_intake_pruned", rows=pruned)
            except Exception as error:  # the directory's database, say: try again later
                await loop.pause(error)
            else:
                loop.succeeded()

    async def flush(self, symbol: str | None = None, *, catch_up: bool = False) -> int:
        """Send what is pending now (one symbol, or all at once); with ``catch_up``, also the
        bars a campaign has not had yet when nothing new is pending. Returns the signals sent."""
        symbols = [symbol] if symbol is not None else list(self._symbols)
        sent = await asyncio.gather(*(self._flush_symbol(name, catch_up) for name in symbols))
        return sum(sent)

    async def _flush_symbol(self, symbol: str, catch_up: bool) -> int:
        entry = self._symbols.get(symbol)
        if entry is None:
            return 0
        async with entry.flushing:
            return await self._flush_locked(symbol, entry, catch_up)

    async def _flush_locked(self, symbol: str, entry: _Symbol, catch_up: bool) -> int:
        if entry.pending is not None:
            bar, entry.pending = entry.pending, None
            entry.history.append(bar)
            entry.last_flush = self._clock()
            entry.flushed_seq = entry.pending_seq
            await self._tell_market(bar)
        elif not (catch_up and entry.history):
            return 0
        listed = await self._directory.open_campaigns(symbol)
        targets = {c.campaign_id: c for c in listed}
        for campaign_id in [c for c in entry.announced if c in targets]:
            del entry.announced[campaign_id]  # the directory knows it now
        targets |= entry.announced
        plans = [
            (c, missed) for c in targets.values() if (missed := self._missed(c, entry)) is not None
        ]
        if not await self._record(symbol, entry, plans):
            return 0  # nothing is sent that the journal does not know of
        results = await asyncio.gather(*(self._deliver(c, u, entry) for c, u in plans))
        sent = sum(results)
        self.signals_sent += sent
        return sent

    async def _tell_market(self, bar: PriceUpdate) -> None:
        for listener in self._listeners:
            try:
                await listener.on_bar(bar)
            except Exception:  # the campaigns still get the bar
                log.exception("market_listener_failed", symbol=bar.symbol, as_of=bar.as_of)

    def _missed(self, campaign: OpenCampaign, entry: _Symbol) -> PriceUpdate | None:
        """The bar ``campaign`` is to get next: what it has not had, or, after a send that may
        have failed, exactly that send's span."""
        history = entry.history
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

    async def _record(
        self, symbol: str, entry: _Symbol, plans: list[tuple[OpenCampaign, PriceUpdate]]
    ) -> bool:
        if self._journal is None:
            return True
        flushed = entry.flushed_seq if entry.flushed_seq != entry.recorded_seq else None
        sending = [
            Delivery(c.campaign_id, self._sent_until.get(c.campaign_id), bar.as_of)
            for c, bar in plans
        ]
        try:
            await self._journal.record(symbol, flushed, sending)
        except Exception as error:
            self._recording.failed(error)
            return False
        self._recording.succeeded()
        entry.recorded_seq = entry.flushed_seq
        return True

    async def _deliver(self, campaign: OpenCampaign, update: PriceUpdate, entry: _Symbol) -> int:
        campaign_id = campaign.campaign_id
        doubt = self._uncertain.get(campaign_id)
        self._uncertain[campaign_id] = update.as_of  # until the campaign says it has it
        async with self._limit:
            try:
                await self._send(campaign_id, update)
            except Gone:
                self._sent_until.pop(campaign_id, None)
                self._uncertain.pop(campaign_id, None)
                entry.announced.pop(campaign_id, None)
                return 0
            except SendFailed as error:
                # Not delivered: the next send merges this bar in (an earlier doubt stays).
                if doubt is None:
                    del self._uncertain[campaign_id]
                # Catch-ups wait out the backoff; new bars are still tried as they come.
                self._next_send_try = self._clock() + self._sending.failed(error)
                return 0
        self._sending.succeeded()
        self._sent_until[campaign_id] = update.as_of
        self._uncertain.pop(campaign_id, None)
        return 1
