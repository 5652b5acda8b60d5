"""The API process's one listener on the audit trail, shared by all its WebSockets.

It holds a connection of its own that LISTENs on the trail's channel (each API process has
its own, so any number of them can serve sockets), reads the settled events after its head
whenever a commit notifies it (and every ``poll`` seconds besides, for an event that settled
only once an older save ended, or a notification lost with the connection; a burst of
commits read together, at most every ``gap`` seconds), keeps the newest
of them in memory and wakes the sockets. A socket keeps its own cursor and reads from here,
or from the database when it is further behind than what is kept, so a slow or resumed socket
gets every event once, in order, and a socket never waits on another.

It also keeps what the dashboard shows beside the events, read once per batch for every
socket: each touched campaign as the read model has it now, and the portfolio (at most every
``PORTFOLIO_EVERY`` seconds: it marks every holding campaign, and a burst moves it many times a
second); and it LISTENs for accepted prices, which change no campaign but move their marks
(``MarkBoard``) and the portfolio's marked equity. Those reads run on a thread of their own
(``ReaderThread``), so a burst the API's loop is busy delivering does not hold them up.
"""

import asyncio
import bisect
import contextlib
import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from pydantic import JsonValue
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.live.marks import MarkBoard
from campaign_engine.api.live.snapshots import Snapshots
from campaign_engine.db.engine import libpq_url
from campaign_engine.db.event_stream import CHANNEL, Cursor, EventStream, StreamedEvent
from campaign_engine.db.price_bars import CHANNEL as PRICES_CHANNEL
from campaign_engine.db.price_bars import symbols_priced
from campaign_engine.db.reader_thread import ReaderThread
from campaign_engine.domain.policy import Policy
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.api.live")

Json = dict[str, JsonValue]

PORTFOLIO_EVERY = 0.5  # seconds between reads of the portfolio while the book moves


@dataclass(slots=True)
class Seen:
    """How far a socket has sent: events to ``cursor``, marks and the portfolio to their
    numbers."""

    cursor: Cursor
    marks: int
    portfolio: int
    # The events the last portfolio sent had seen: a run of events is followed by a portfolio
    # read after it, changed or not.
    portfolio_after: Cursor


class EventHub(BackgroundLoop):
    def __init__(
        self,
        engine: AsyncEngine,
        policy: Policy,
        *,
        poll: float = 0.5,
        gap: float = 0.1,
        keep: int = 2_000,
        batch: int = 500,
    ) -> None:
        # Entering reads nothing yet: the API starts (and answers /healthz) while the database
        # is down.
        super().__init__("event-hub")
        self.stream = EventStream(engine)
        url = engine.url.render_as_string(hide_password=False)
        self._reader = ReaderThread(url, "live-reader")
        self.snapshots = Snapshots(self._reader, policy)
        self._conninfo = libpq_url(url)
        self._poll = poll
        self._gap = gap
        self._keep = keep
        self._batch = batch
        self._recent: list[StreamedEvent] = []
        self._floor = Cursor(0, 0)  # everything after it up to the head is in _recent
        self.head = Cursor(0, 0)
        self._started = asyncio.Event()  # the head is known
        self.portfolio: Json | None = None
        self.portfolio_seq = 0  # grows with every change of the portfolio read
        self.portfolio_after = Cursor(0, 0)  # the head when the portfolio in hand was read
        self.sockets = 0  # streaming now; with none, nothing is read for them
        self._portfolio_stale = False  # events came while no socket streamed
        self._portfolio_due = False  # the book moved since the portfolio was last read
        self._portfolio_next_at = -math.inf  # the loop's time it may be read again
        self.marks = MarkBoard(self._reader)
        self._campaigns: dict[str, Json] = {}
        self._moved = asyncio.Condition()
        self.listening = False
        self._retry = Retry("database", log, loop="event_hub", backoff=Backoff(start=0.5, cap=5.0))

    # --- what the sockets call ----------------------------------------------------------

    async def started(self, timeout: float) -> bool:
        """Whether the hub has found the stream's head within ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._started.wait(), timeout)
        return self._started.is_set()

    async def after(self, cursor: Cursor) -> Sequence[StreamedEvent]:
        """The next events after ``cursor``, in stream order (empty when none has settled)."""
        if cursor >= self._floor:
            start = bisect.bisect_right(self._recent, cursor, key=lambda e: e.cursor)
            return self._recent[start : start + self._batch]
        return await self.stream.after(cursor, self._batch)

    async def wait_beyond(self, seen: "Seen", timeout: float) -> None:
        """Return once there is news after ``seen`` (events, marks or the portfolio), or after
        ``timeout`` seconds."""
        async with self._moved:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait_for(lambda: self.news_after(seen)), timeout)

    @contextlib.asynccontextmanager
    async def attached(self) -> AsyncIterator[None]:
        """A socket streams for the block. While none does, the hub keeps reading the trail
        but reads no campaign, portfolio or mark for sockets (nobody would see them): the
        portfolio is read again when one comes, the campaigns when it asks for them, and the
        list answers the marks of now."""
        self.sockets += 1
        try:
            if self._portfolio_stale:
                self._portfolio_stale, self._portfolio_due = False, True
                await self._read_portfolio(asyncio.get_running_loop().time(), anyway=True)
            yield
        finally:
            self.sockets -= 1

    def news_after(self, seen: "Seen") -> bool:
        return (
            self.head > seen.cursor
            or self.marks.seq > seen.marks
            or self.portfolio_seq > seen.portfolio
            or self.owes_portfolio(seen)
        )

    def owes_portfolio(self, seen: "Seen") -> bool:
        """A socket sent events the portfolio it sent had not seen, and one read after them
        is in hand."""
        return seen.portfolio_after < seen.cursor <= self.portfolio_after

    async def campaigns(self, campaign_ids: Sequence[str]) -> list[Json]:
        """The campaigns as last read (read now if this process has not read them yet)."""
        wanted = list(dict.fromkeys(campaign_ids))
        missing = [c for c in wanted if c not in self._campaigns]
        for campaign_id, found in (await self.snapshots.campaigns(missing)).items():
            self._remember(campaign_id, found)
        # An id still unknown had refused signals only: no campaign to show.
        return [self._campaigns[c] for c in wanted if c in self._campaigns]

    # --- the listener ---------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                try:
                    await self._listen()  # returns only by raising
                except (psycopg.Error, OSError, SQLAlchemyError) as error:
                    self.listening = False
                    await self._retry.pause(error)  # "dependency_down" once per outage
        finally:
            await self._reader.close()

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            await conn.execute(f"LISTEN {PRICES_CHANNEL}")
            self.marks.heard(None)  # what was priced while not listening
            self.listening = True
            self._retry.succeeded()
            if not self._started.is_set():
                self.head = self._floor = await self.stream.head()
                self.portfolio = await self.snapshots.portfolio()
                self.portfolio_after = self.head
                self._started.set()
            loop = asyncio.get_running_loop()
            while True:
                read_at = loop.time()
                await self._mark(loop.time())  # one query: before the events' reads
                await self._read(conn)  # what committed while not listening too
                await self._read_portfolio(loop.time())
                wait = self._wait(loop.time())
                async for note in conn.notifies(timeout=wait, stop_after=1):
                    self._heard(note)
                    # A commit alone is read at once; commits in a burst are read together,
                    # so the campaigns and the portfolio are read at most every ``gap``.
                    await asyncio.sleep(read_at + self._gap - loop.time())
                async for note in conn.notifies(timeout=0):
                    self._heard(note)  # what came meanwhile is in this read too

    def _wait(self, now: float) -> float:
        """Seconds to listen before reading again: until the marks or the portfolio are due."""
        wait = self._poll
        if self.sockets and self.marks.pending:
            wait = min(wait, self.marks.due_in(now))
        if self.sockets and self._portfolio_due:
            wait = min(wait, max(0.0, self._portfolio_next_at - now))
        return wait

    def _heard(self, note: psycopg.Notify) -> None:
        if note.channel == PRICES_CHANNEL:
            self.marks.heard(symbols_priced(note.payload))

    async def _mark(self, now: float) -> None:
        if not self.sockets:
            return  # the prices heard are marked once a socket comes
        try:
            if not await self.marks.read(now):
                return
        except (psycopg.Error, OSError):
            raise
        except Exception as error:  # the database through SQLAlchemy: the next prices mark
            log.warning("event_hub_marks_failed", error=f"{type(error).__name__}: {error}")
            return
        async with self._moved:
            self._moved.notify_all()  # the marks go out before the portfolio is read
        self._portfolio_due = True
        await self._read_portfolio(now)

    async def _read_portfolio(self, now: float, *, anyway: bool = False) -> None:
        """The portfolio, if the book moved since it was read and a read is due (``anyway``:
        whenever the last one was)."""
        throttled = now < self._portfolio_next_at and not anyway
        if not (self.sockets and self._portfolio_due) or throttled:
            return
        self._portfolio_due = False
        self._portfolio_next_at = now + PORTFOLIO_EVERY
        head = self.head  # what this read sees at least
        try:
            portfolio = await self.snapshots.portfolio()
        except (psycopg.Error, OSError):
            raise
        except Exception as error:  # the database through SQLAlchemy: read at the next move
            log.warning("event_hub_portfolio_failed", error=f"{type(error).__name__}: {error}")
            return
        async with self._moved:
            self._set_portfolio(portfolio)
            self.portfolio_after = head
            self._moved.notify_all()

    def _set_portfolio(self, portfolio: Json) -> None:
        if portfolio != self.portfolio:
            self.portfolio = portfolio
            self.portfolio_seq += 1

    async def _read(self, conn: psycopg.AsyncConnection[Any]) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                events = await self.stream.after(self.head, self._batch)
                if not events:
                    return
                await self._take(events)
                # Between batches, the marks due: a burst of exits writes events for
                # seconds, and the prices that caused them (heard meanwhile) move every row.
                async for note in conn.notifies(timeout=0):
                    self._heard(note)
                await self._mark(loop.time())
        except (psycopg.Error, OSError):
            raise
        except Exception as error:  # the database through SQLAlchemy: try again next time
            log.warning("event_hub_read_failed", error=f"{type(error).__name__}: {error}")

    async def _take(self, events: Sequence[StreamedEvent]) -> None:
        touched = list(dict.fromkeys(e.campaign_id for e in events))
        if self.sockets:
            for campaign_id, found in (await self.snapshots.campaigns(touched)).items():
                self._remember(campaign_id, found)
            self._portfolio_due = True
        else:  # read again when asked for
            for campaign_id in touched:
                self._campaigns.pop(campaign_id, None)
            self._portfolio_stale = True
        self._recent.extend(events)
        if len(self._recent) > self._keep:
            dropped = len(self._recent) - self._keep
            self._floor = self._recent[dropped - 1].cursor
            del self._recent[:dropped]
        async with self._moved:
            self.head = events[-1].cursor
            self._moved.notify_all()
        await self._read_portfolio(asyncio.get_running_loop().time())

    def _remember(self, campaign_id: str, campaign: Json) -> None:
        self._campaigns.pop(campaign_id, None)
        self._campaigns[campaign_id] = campaign
        # The campaign's message carries its mark: the same mark again is no news.
        mark = campaign.get("mark")
        if campaign.get("closed_at") is not None:
            self.marks.forget(campaign_id)
        elif isinstance(mark, dict):
            self.marks.remember(campaign_id, {"type": "mark", **mark}, announce=False)
        while len(self._campaigns) > self._keep:  # the longest unchanged go first
            del self._campaigns[next(iter(self._campaigns))]
