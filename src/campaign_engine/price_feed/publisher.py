"""Client-side price flow (SPEC section 9): coalesce a symbol's updates into bars and fan each
bar out to the open campaigns on that symbol, a few times a second at most.

Which bars a campaign gets is decided by market time alone: every bar stamped after the entry
signal that opened it (``OpenCampaign.opened_at``) and after the last bar sent to it. A
campaign that missed bars (it opened meanwhile, or a send failed) gets them merged into one,
so every high and low reaches every campaign, however prices flood; the publisher looks for
such campaigns again every ``catch_up`` interval, so the last bar before a quiet spell reaches
a campaign approved just after it too. An update older than the bar its symbol has already
sent is counted and logged (``updates_too_old``), never dropped in silence.

Bad prints (SPEC section 11): the durable intake screens what the API accepted before it is
journaled (db/price_screens.py), so the rows ``accept`` takes have passed already. Updates
given straight to ``publish`` (``campaigns prices``) pass through the publisher's own
``screen`` (price_feed/screen.py), the same rule in memory.

Each new bar of a symbol also goes, in order and before any campaign gets it, to the market
``listeners`` (the simulated exchange, which fills resting orders on it): a fill the bar made
reaches a campaign before the bar does, as at a real venue.

With a ``journal`` (the API's durable intake, db/price_intake.py) the publisher records, before
each send, its cursor per symbol and what it is about to send to whom; started again, it
resumes from there: the rows no bar has taken yet become its first bars. A bar recorded as
sent but not known to have arrived is sent again first, covering exactly the same span (the
campaign takes it, or ignores it whole as stale), before anything newer: a merged bar never
reaches back over prices a campaign has evaluated already, which could otherwise cross a stop
moved up since. Each send is in the trace of the request that accepted the bar's newest row,
when it kept one. Which process runs the durable publisher, and how it learns of rows other
processes appended: price_feed/leader.py. Per symbol: price_feed/symbol_bars.py; per
campaign: price_feed/recipients.py.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Self

import structlog

from campaign_engine.db.price_deliveries import NotLeader, Restored
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.bar_sender import BarSender, Sender, Sent
from campaign_engine.price_feed.recipients import CampaignCursors
from campaign_engine.price_feed.screen import PrintScreens
from campaign_engine.price_feed.symbol_bars import SymbolBars, Symbols
from campaign_engine.price_feed.targets import CampaignDirectory as CampaignDirectory
from campaign_engine.price_feed.targets import DatabaseDirectory as DatabaseDirectory
from campaign_engine.price_feed.targets import DeliveryJournal as DeliveryJournal
from campaign_engine.price_feed.targets import Gone as Gone
from campaign_engine.price_feed.targets import MarketListener as MarketListener
from campaign_engine.price_feed.targets import OpenCampaign as OpenCampaign
from campaign_engine.price_feed.targets import SendFailed as SendFailed
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.price_feed.publisher")


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
        screen: PrintScreens | None = None,
    ) -> None:
        self._screen = screen  # bad prints, for ``publish`` (the intake screens its own rows)
        self._listeners = tuple(listeners)
        self._directory = directory
        self._journal = journal
        self._interval = interval.total_seconds()
        self._retention = retention  # bars kept per symbol for campaigns that missed some
        self._catch_up = catch_up.total_seconds()
        self._prune_every = prune_every.total_seconds()
        self._clock = clock
        self._symbols = Symbols(retention)
        self._campaigns = CampaignCursors()
        self._sender = BarSender(send, self._campaigns, concurrency=concurrency, clock=clock)
        self._flusher: asyncio.Task[None] | None = None
        self._restored = asyncio.Event()  # resumed from the journal (or none to resume)
        if journal is None:
            self._restored.set()
        self._recording = Retry("database", log, loop="price_publisher", backoff=Backoff(cap=5.0))
        self._abandoned = False
        self.resumed_through = 0  # the newest intake row the journal restored (0: none)
        self.signals_sent = 0

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
        if self._restored.is_set() and not self._abandoned:
            await self.flush()
            if self._journal is not None:
                try:  # else the next publisher sends the last bars again (ignored as stale)
                    await self._journal.settle(self._campaigns.arrived_all())
                except Exception as error:
                    log.warning("price_deliveries_not_settled", error=repr(error))

    def abandon(self) -> None:
        """Stop without the final flush: another process delivers from here (it resumes from
        the journal)."""
        self._abandoned = True

    @property
    def updates_received(self) -> int:
        return self._symbols.updates_received

    @property
    def updates_too_old(self) -> int:
        return self._symbols.updates_too_old

    def _restore(self, restored: Restored) -> None:
        """Resume from the journal: bars and pending rows per symbol, deliveries as recorded."""
        self._symbols.restore(restored)
        self._campaigns.restore(restored.deliveries)
        self.resumed_through = max((seq for seq, _ in restored.rows), default=0)
        if restored.rows or restored.deliveries:
            log.info(
                "price_intake_resumed",
                rows=len(restored.rows),
                pending=self._symbols.pending_count(),
                uncertain=self._campaigns.uncertain,
            )

    @property
    def updates_held(self) -> int:
        """Updates ``publish`` held back as bad prints (SPEC section 11)."""
        return 0 if self._screen is None else self._screen.held_count

    def still_held(self) -> list[PriceUpdate]:
        """The updates held back and neither confirmed nor refuted yet: never published."""
        return [] if self._screen is None else self._screen.held()

    def accept(
        self,
        update: PriceUpdate,
        seq: int | None = None,
        accepted_at: float | None = None,
        trace: str | None = None,
    ) -> bool:
        """Merge one update into its symbol's next bar, without sending anything; ``seq`` is
        its intake row, ``accepted_at`` when it was accepted (the delivery delay's start),
        ``trace`` that row's traceparent. False when it is older than a bar its symbol has made
        already (no campaign could use it): counted and logged."""
        return self._symbols.accept(update, seq, accepted_at, trace)

    async def publish(self, update: PriceUpdate, seq: int | None = None) -> bool:
        """Screen the update for a bad print (with a ``screen``), ``accept`` what passes and
        send its symbol's bar if one is due. False when nothing was taken (held back, or too
        old)."""
        taken = [update] if self._screen is None else self._screen.judge(update)
        accepted = [self.accept(u, seq, time.time()) for u in taken]
        if any(accepted):
            await self.flush_due([update.symbol])
        return bool(accepted) and all(accepted)

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
        entry = self._symbols.entry(symbol)
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
                if now - last_catch_up >= self._catch_up and now >= self._sender.next_try:
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

    async def _flush_locked(self, symbol: str, entry: SymbolBars, catch_up: bool) -> int:
        accepted_at = None  # of a new bar's oldest update (catch-ups send older bars)
        trace = entry.trace  # of the newest row in what goes out now
        if entry.pending is not None:
            bar, entry.pending = entry.pending, None
            accepted_at, entry.pending_since = entry.pending_since, None
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
            (c, missed)
            for c in targets.values()
            if (missed := self._campaigns.missed(c, entry.history)) is not None
        ]
        if not await self._record(symbol, entry, plans):
            return 0  # nothing is sent that the journal does not know of
        delivering = (self._deliver(c, u, entry, trace, accepted_at) for c, u in plans)
        sent = sum(await asyncio.gather(*delivering))
        self.signals_sent += sent
        return sent

    async def _tell_market(self, bar: PriceUpdate) -> None:
        for listener in self._listeners:
            try:
                await listener.on_bar(bar)
            except Exception:  # the campaigns still get the bar
                log.exception("market_listener_failed", symbol=bar.symbol, as_of=bar.as_of)

    async def _record(
        self, symbol: str, entry: SymbolBars, plans: list[tuple[OpenCampaign, PriceUpdate]]
    ) -> bool:
        if self._journal is None:
            return True
        flushed = None
        if entry.flushed_seq is not None and entry.flushed_seq != entry.recorded_seq:
            flushed = (entry.flushed_seq, entry.history[-1].as_of)
        sending = [self._campaigns.journal_entry(c.campaign_id, bar) for c, bar in plans]
        try:
            await self._journal.record(symbol, flushed, sending)
        except NotLeader as error:  # another process delivers now; this one is stopping
            log.warning("price_delivery_not_leader", symbol=symbol, error=str(error))
            return False
        except Exception as error:
            self._recording.failed(error)
            return False
        self._recording.succeeded()
        entry.recorded_seq = entry.flushed_seq
        return True

    async def _deliver(
        self,
        campaign: OpenCampaign,
        update: PriceUpdate,
        entry: SymbolBars,
        trace: str | None,
        accepted_at: float | None = None,
    ) -> int:
        sent = await self._sender.send(campaign.campaign_id, update, trace, accepted_at)
        if sent is Sent.GONE:
            entry.announced.pop(campaign.campaign_id, None)
        return int(sent is Sent.ARRIVED)
