"""The outbox relay: announces campaign events from the ``outbox`` table to the channels.

Persistence writes each new audit trail row and its outbox row in the same transaction, so an
event that was recorded is also one to announce, and the workflow needs no activity for it. The
relay runs beside the worker and, pass after pass, announces what the outbox holds and deletes
it.

Delivery is **at least once**: a pass that stops before its commit (a crash, a lost database
connection, a cancelled worker) leaves its rows in the outbox and they are announced again by the
next pass. Consumers deduplicate by ``event_id``, which is derived, never random, so every copy of
an event carries the same id.

Order: one relay in the whole deployment announces at a time (a transaction-level advisory
lock), in audit trail order. A campaign's changes are persisted one after another, so its events
always go out in the order they happened; two campaigns' changes committed at the same moment may
go out in either order.

A failing channel is logged and skipped for the rest of its batch; it never holds up the other
channels or the relay, and what it missed is not sent to it again (announcements are a courtesy;
the audit trail is the record).
"""

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.schema import audit_trail, outbox
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.formats.event_json import event_from_json
from campaign_engine.runtime.background import BackgroundLoop
from campaign_engine.runtime.backoff import Backoff, Retry
from campaign_engine.services.notifications import Channel

log = structlog.get_logger("campaign_engine.outbox_relay")

# Any fixed bigint will do so long as every relay of the deployment uses the same one and
# nothing else in the database takes it: "campaign outbox" squeezed into 8 ASCII bytes.
RELAY_LOCK_KEY = int.from_bytes(b"cmpgnobx", "big")

_PENDING = (
    select(
        outbox.c.audit_seq,
        audit_trail.c.event_id,
        audit_trail.c.campaign_id,
        audit_trail.c.event_type,
        audit_trail.c.version,
        audit_trail.c.occurred_at,
        audit_trail.c.correlation_id,
        audit_trail.c.data,
    )
    .join(audit_trail, audit_trail.c.seq == outbox.c.audit_seq)
    .order_by(outbox.c.audit_seq)
)


class OutboxRelay(BackgroundLoop):
    """Announces outbox events to ``channels`` while entered (``async with``); ``relay_once``
    runs a single pass. Leaving lets the pass in hand finish and commit; cancelling the leaving
    cancels it too, and its rows stay in the outbox for the next relay."""

    finishes_pass = True

    def __init__(
        self,
        engine: AsyncEngine,
        channels: Sequence[Channel],
        *,
        interval: timedelta = timedelta(milliseconds=250),
        batch: int = 200,
        retry: Retry | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        super().__init__("outbox-relay")
        # READ COMMITTED whatever the server's default: each statement must see what the relay
        # that held the lock before committed, or its rows would be announced twice.
        self._engine = engine.execution_options(isolation_level="READ COMMITTED")
        self._channels = tuple(channels)
        self._interval = interval.total_seconds()
        self._batch = batch
        # Capped low: what the relay announces late after an outage is notifications.
        self._retry = retry or Retry(
            "database",
            log,
            loop="outbox_relay",
            backoff=Backoff(start=self._interval, cap=max(self._interval, 5.0)),
        )

    async def relay_once(self) -> int:
        """One pass: announce up to ``batch`` events and remove them from the outbox. Returns
        how many rows it took from the outbox (0 when another relay holds the lock)."""
        async with self._engine.begin() as conn:
            locked = await conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY)))
            if not locked:
                return 0
            rows = (await conn.execute(_PENDING.limit(self._batch))).mappings().all()
            if not rows:
                return 0
            await self._announce([e for e in map(_event_of, rows) if e is not None])
            await conn.execute(
                delete(outbox).where(outbox.c.audit_seq.in_([row["audit_seq"] for row in rows]))
            )
        return len(rows)

    async def _announce(self, events: Sequence[CampaignEvent]) -> None:
        for channel in self._channels:
            sent = 0
            try:
                for event in events:
                    await channel.send(event)
                    sent += 1
            except Exception as error:
                log.warning(
                    "outbox_channel_failed",
                    channel=channel.name,
                    error=f"{type(error).__name__}: {error}",
                    event_id=events[sent].event_id,
                    skipped=len(events) - sent,
                )

    async def _run(self) -> None:
        while not self.stopping:
            pause = self._interval
            try:
                taken = await self.relay_once()
            except Exception as error:
                # The rows stay for the next pass; a relay that died here would leave every
                # later event unannounced while the worker went on trading. The database
                # being down is logged once, not at every pass.
                pause = self._retry.failed(error)
                taken = 0
            else:
                self._retry.succeeded()
            if taken >= self._batch:
                continue  # a backlog: the next batch at once
            await self._pause(pause)


def _event_of(row: RowMapping) -> CampaignEvent | None:
    try:
        return event_from_json(
            {
                "event_id": row["event_id"],
                "type": row["event_type"],
                "campaign_id": row["campaign_id"],
                "version": row["version"],
                "occurred_at": row["occurred_at"],
                "correlation_id": row["correlation_id"],
                "data": row["data"],
            }
        )
    except ValueError as error:
        # Not announceable by this version (a kind it does not know, or a row written before
        # events had a ``kind``): keeping the row would stop every event after it for good.
        # The audit trail still has it.
        log.error(
            "outbox_event_unreadable",
            audit_seq=row["audit_seq"],
            event_id=row["event_id"],
            error=str(error),
        )
        return None
