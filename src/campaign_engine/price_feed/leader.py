"""One process per database delivers the durable price intake; every API process appends.

Each API process runs a ``PriceDelivery``. It holds a connection of its own and tries to take
the delivery lock on it (``pg_try_advisory_lock``, a session lock); the process that has it
leads: it runs the durable ``PricePublisher`` (resumed from the journal: the cursors per
symbol, the deliveries per campaign) and feeds it the intake's rows in ``seq`` order, reading
the table, never anything another process holds in memory. The others try again now and then
(a jittered backoff capped at ``takeover``).

The leader learns of new rows by LISTEN on that same connection: every append notifies at its
commit, so the row is there when the leader reads, and a process that appended itself wakes
its reader directly. Without a notification the leader reads every ``poll`` anyway (a
notification can only be lost with the connection, and with it the lead). Polling alone would
cost every price up to ``poll`` of latency, or the database a query per short interval per
process.

A leader whose connection is lost has lost the lock with it (the server ends the session, or
frees it once its keepalives give up on a vanished client): it stops sending (its journal's
writes are fenced on the lock, so none goes out after that), drops what it held in memory, and
competes again, but only after twice ``takeover``: a process that just lost the lead is the one
most likely to be unwell (its connection cut, its sends stuck), so one that was waiting takes
over first (each tries at least once a ``takeover``); alone, it takes the lead back then. The
process that takes over resumes from the journal, and a bar recorded as sent but not known to
have arrived is sent again over exactly the same span.
"""

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, Self

import psycopg
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import libpq_url
from campaign_engine.db.price_deliveries import DELIVERY_LOCK
from campaign_engine.db.price_intake import CHANNEL, PriceIntake
from campaign_engine.price_feed.publisher import PricePublisher
from campaign_engine.price_feed.targets import OpenCampaign
from campaign_engine.runtime.backoff import Backoff, Retry

log = structlog.get_logger("campaign_engine.price_feed.publisher")

# The lead's connection: a vanished peer is noticed within about 25 s on either side, so a
# dead leader's lock is freed (server side) and a cut-off leader stops (client side).
_SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3"
)
_READ_BATCH = 5_000


class PriceDelivery:
    def __init__(
        self,
        engine: AsyncEngine,
        make_publisher: Callable[[PriceIntake], PricePublisher],
        *,
        poll: timedelta = timedelta(seconds=1),
        takeover: timedelta = timedelta(seconds=2),
        while_leading: Callable[[], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        """``while_leading``: what else only the leader runs, entered while it leads (a market
        data feed: one connection per account, however many API processes run)."""
        self._conninfo = psycopg.conninfo.make_conninfo(
            libpq_url(engine.url.render_as_string(hide_password=False)),
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        self._intake = PriceIntake(engine)
        self._make_publisher = make_publisher
        self._while_leading = while_leading
        self._poll = poll.total_seconds()
        self._takeover = takeover.total_seconds()
        self._wake = asyncio.Event()
        self._moved = asyncio.Condition()
        self._through = 0  # the newest intake row the leader's publisher has taken
        self._runner: asyncio.Task[None] | None = None
        self.publisher: PricePublisher | None = None  # while this process leads
        self.terms = 0  # how many times this process has taken the lead

    @property
    def leading(self) -> bool:
        return self.publisher is not None

    async def __aenter__(self) -> Self:
        self._runner = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            self._runner.cancel()  # a leader flushes what it holds, then frees the lock
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner

    def appended(self) -> None:
        """Rows were appended here: a leading process reads them now."""
        self._wake.set()

    async def taken(self, seq: int) -> None:
        """Return once this process's publisher has taken the rows up to ``seq`` (and sent
        the bars then due), or at once when another process delivers."""
        async with self._moved:
            await self._moved.wait_for(lambda: not self.leading or self._through >= seq)

    async def opened(self, symbol: str, campaign: OpenCampaign) -> int:
        """A campaign just opened: the leader sends it its bars now. Elsewhere nothing: the
        leader finds it in the read model (its catch-up) a moment later."""
        publisher = self.publisher
        return 0 if publisher is None else await publisher.opened(symbol, campaign)

    # --- taking the lead ------------------------------------------------------------------

    async def _run(self) -> None:
        retry = Retry("database", log, loop="price_delivery", backoff=Backoff(cap=5.0))
        contended = Backoff(start=min(0.25, self._takeover), cap=self._takeover)
        while True:
            led = False
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(_SERVER_KEEPALIVES)
                    retry.succeeded()
                    while not await _try_lock(conn):
                        await asyncio.sleep(contended.next())
                    contended.reset()
                    led = True
                    await self._lead(conn)  # returns only by raising
            except Exception as error:  # the lead lost, the database down: compete again
                await retry.pause(error)
                if led:  # the others first (see above)
                    await asyncio.sleep(2 * self._takeover)

    async def _lead(self, conn: psycopg.AsyncConnection[Any]) -> None:
        pid = conn.info.backend_pid
        publisher = self._make_publisher(self._intake.fenced(pid))
        self.terms += 1
        log.info("price_delivery_leading", backend_pid=pid, term=self.terms)
        beside = self._while_leading() if self._while_leading else contextlib.nullcontext()
        async with publisher, beside:
            await self._set_leader(publisher, through=0)
            listening = asyncio.create_task(self._listen(conn))
            reading = asyncio.create_task(self._read(publisher))
            try:
                done, _ = await asyncio.wait(
                    {listening, reading}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for task in (listening, reading):
                    task.cancel()
                await asyncio.gather(listening, reading, return_exceptions=True)
                await self._set_leader(None, through=0)
            # The lead is lost (only an error ends either task): whatever this publisher held
            # is the next leader's, from the journal.
            publisher.abandon()
            log.warning("price_delivery_lost", backend_pid=pid)
            for task in done:
                task.result()
            raise psycopg.OperationalError("the price delivery lock's connection ended")

    async def _set_leader(self, publisher: PricePublisher | None, *, through: int) -> None:
        async with self._moved:
            self.publisher = publisher
            self._through = through
            self._moved.notify_all()

    async def _listen(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(f"LISTEN {CHANNEL}")
        while True:  # raises once the connection is lost
            async for _ in conn.notifies(timeout=self._poll, stop_after=1):
                pass
            self._wake.set()  # notified, or ``poll`` passed

    # --- reading the intake -----------------------------------------------------------------

    async def _read(self, publisher: PricePublisher) -> None:
        while not await publisher.ready(self._poll):
            pass  # resuming (the database may be down): the journal first
        self._through = publisher.resumed_through
        retry = Retry("database", log, loop="price_delivery_read", backoff=Backoff(cap=5.0))
        self._wake.set()  # what was appended while resuming
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._read_new(publisher)
            except Exception as error:  # the pool's database: the next wake reads again
                self._wake.set()
                await retry.pause(error)
            else:
                retry.succeeded()

    async def _read_new(self, publisher: PricePublisher) -> None:
        while True:
            rows = await self._intake.after(self._through, _READ_BATCH)
            if not rows:
                return
            for row in rows:
                publisher.accept(row.update, row.seq, row.received_at.timestamp(), row.traceparent)
            self._through = rows[-1].seq
            await publisher.flush_due([row.update.symbol for row in rows])
            async with self._moved:
                self._moved.notify_all()  # the bars due are sent: POST /prices may answer
            if len(rows) < _READ_BATCH:
                return


async def _try_lock(conn: psycopg.AsyncConnection[Any]) -> bool:
    cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (DELIVERY_LOCK,))
    row = await cursor.fetchone()
    return bool(row and row[0])
