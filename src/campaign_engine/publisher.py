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
"""

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, Self

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.schema import campaigns
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.prices import merge, merge_all
from campaign_engine.domain.vocabulary import CampaignStatus

log = structlog.get_logger("campaign_engine.publisher")

Sender = Callable[[str, PriceUpdate], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OpenCampaign:
    campaign_id: str
    opened_at: datetime
    """The market time of the entry signal that opened the campaign."""


class MarketListener(Protocol):
    async def on_bar(self, bar: PriceUpdate) -> None:
        """A new bar of ``bar.symbol`` (every update since the previous one, merged)."""
        ...


class CampaignDirectory(Protocol):
    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]: ...


class DatabaseDirectory:
    """Open campaigns from the PostgreSQL read model: every open campaign in one query, cached
    for ``ttl`` seconds, so the publisher's catch-up costs one query a second however many
    symbols it holds bars of.

    A campaign the cache does not know yet loses nothing: when it first appears, the
    publisher sends it every bar since it opened."""

    def __init__(self, engine: AsyncEngine, *, ttl: float = 1.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._read_at = float("-inf")
        self._by_symbol: dict[str, list[OpenCampaign]] = {}
        self._reading = asyncio.Lock()

    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        async with self._reading:  # one query for every symbol flushed meanwhile
            if time.monotonic() - self._read_at >= self._ttl:
                await self._read()
        return self._by_symbol.get(symbol, [])

    async def _read(self) -> None:
        open_statuses = (CampaignStatus.ACTIVE.value, CampaignStatus.MARKUP.value)
        query = select(campaigns.c.campaign_id, campaigns.c.symbol, campaigns.c.created_at).where(
            campaigns.c.status.in_(open_statuses)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        by_symbol: dict[str, list[OpenCampaign]] = {}
        for row in rows:
            # A campaign's created_at is its first entry signal's market time.
            by_symbol.setdefault(row.symbol, []).append(
                OpenCampaign(row.campaign_id, row.created_at)
            )
        self._by_symbol = by_symbol
        self._read_at = time.monotonic()


class SendFailed(Exception):
    """A campaign could not be reached; its bars are kept and merged into the next send."""


class Gone(Exception):
    """The campaign's workflow has ended: stop sending to it."""


@dataclass
class _Symbol:
    history: deque[PriceUpdate]
    pending: PriceUpdate | None = None
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
    ) -> None:
        self._send = send
        self._listeners = tuple(listeners)
        self._directory = directory
        self._interval = interval.total_seconds()
        self._retention = retention  # bars kept per symbol for campaigns that missed some
        self._catch_up = catch_up.total_seconds()
        self._limit = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._symbols: dict[str, _Symbol] = {}
        self._sent_until: dict[str, datetime] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.signals_sent = 0
        self.updates_received = 0
        self.updates_too_old = 0

    async def __aenter__(self) -> Self:
        self._flusher = asyncio.create_task(self._flush_when_due())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()

    def _entry(self, symbol: str) -> _Symbol:
        return self._symbols.setdefault(symbol, _Symbol(history=deque(maxlen=self._retention)))

    async def publish(self, update: PriceUpdate) -> bool:
        """Take one update; it reaches the campaigns with the symbol's next bar. False when it
        is older than a bar its symbol has sent already (no campaign could use it)."""
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
        if self._clock() - entry.last_flush >= self._interval:
            await self.flush(update.symbol)
        return True

    async def opened(self, symbol: str, campaign: OpenCampaign) -> int:
        """A campaign just opened on ``symbol``: send it the bars after its opening signal now,
        without waiting for the directory to list it or for the symbol's next update."""
        entry = self._entry(symbol)
        entry.announced[campaign.campaign_id] = campaign
        return await self.flush(symbol, catch_up=True)

    async def _flush_when_due(self) -> None:
        last_catch_up = self._clock()
        while True:
            await asyncio.sleep(self._interval / 2)
            now = self._clock()
            due = [
                symbol
                for symbol, entry in self._symbols.items()
                if entry.pending is not None and now - entry.last_flush >= self._interval
            ]
            await asyncio.gather(*(self.flush(symbol) for symbol in due))
            if now - last_catch_up >= self._catch_up:
                last_catch_up = now
                await self.flush(catch_up=True)

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
            await self._tell_market(bar)
        elif not (catch_up and entry.history):
            return 0
        listed = await self._directory.open_campaigns(symbol)
        targets = {c.campaign_id: c for c in listed}
        for campaign_id in [c for c in entry.announced if c in targets]:
            del entry.announced[campaign_id]  # the directory knows it now
        targets |= entry.announced
        results = await asyncio.gather(*(self._deliver(c, entry) for c in targets.values()))
        sent = sum(results)
        self.signals_sent += sent
        return sent

    async def _tell_market(self, bar: PriceUpdate) -> None:
        for listener in self._listeners:
            try:
                await listener.on_bar(bar)
            except Exception:  # the campaigns still get the bar
                log.exception("market_listener_failed", symbol=bar.symbol, as_of=bar.as_of)

    async def _deliver(self, campaign: OpenCampaign, entry: _Symbol) -> int:
        history = entry.history
        since = self._sent_until.get(campaign.campaign_id, campaign.opened_at)
        missed = []
        for bar in reversed(history):  # usually only the newest bar is missing
            if bar.as_of <= since:
                break
            missed.append(bar)
        if not missed:
            return 0
        if history[0].as_of > since and campaign.campaign_id in self._sent_until:
            log.error("price_history_exhausted", campaign_id=campaign.campaign_id, since=since)
        update = merge_all(reversed(missed))
        assert update is not None
        async with self._limit:
            try:
                await self._send(campaign.campaign_id, update)
            except Gone:
                self._sent_until.pop(campaign.campaign_id, None)
                entry.announced.pop(campaign.campaign_id, None)
                return 0
            except SendFailed as error:
                log.warning("price_send_failed", campaign_id=campaign.campaign_id, error=str(error))
                return 0
        self._sent_until[campaign.campaign_id] = update.as_of
        return 1
