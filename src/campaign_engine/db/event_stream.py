"""The audit trail read as a stream: every event once, in an order a reader can resume from.

An event's place in the stream is its ``Cursor``, ``(txid, seq)``: the transaction that
recorded it, then its row number. ``seq`` alone would not do, because it is given at insert
and saves commit in any order: a reader that had seen seq 11 committed would never look back
for seq 10 committed a moment later. So a read takes only the rows of transactions older than
every transaction still running (``txid`` below the snapshot's xmin): whatever commits later
has a larger ``txid`` than anything already read, and lands after the reader's cursor. A
save is one short transaction, so an event waits for nothing but the saves running beside it.

The trail's insert trigger notifies channel ``CHANNEL`` at each commit that appended events
(migration 0005); listeners wake on it and read after their cursor.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.records import EventRecord

CHANNEL = "campaign_events"

_CURSOR = re.compile(r"(\d{1,19})\.(\d{1,19})")

# Rows of transactions that have all ended, after the cursor, in stream order.
_SETTLED = "txid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
_AFTER = text(
    "SELECT txid, seq, event_id, campaign_id, event_type, version, occurred_at,"  # noqa: S608
    " correlation_id, data, recorded_at FROM audit_trail"
    f" WHERE (txid, seq) > (:txid, :seq) AND {_SETTLED}"
    " ORDER BY txid, seq LIMIT :limit"
)
_HEAD = text(
    f"SELECT txid, seq FROM audit_trail WHERE {_SETTLED}"  # noqa: S608
    " ORDER BY txid DESC, seq DESC LIMIT 1"
)
_POSITION_OF = text("SELECT txid, seq FROM audit_trail WHERE event_id = :event_id")


class Cursor(NamedTuple):
    """A place in the stream; the events after it are those not seen yet. Compares in
    stream order. Written ``"<txid>.<seq>"``."""

    txid: int
    seq: int

    def __str__(self) -> str:
        return f"{self.txid}.{self.seq}"

    @classmethod
    def parse(cls, written: str) -> Self:
        matched = _CURSOR.fullmatch(written.strip())
        if matched is None:
            raise ValueError(f"cursor must be <txid>.<seq> (two whole numbers), got {written!r}")
        return cls(int(matched[1]), int(matched[2]))


START = Cursor(0, 0)  # before every event


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    """An audit trail entry as the stream carries it (the event's JSON as the trail holds it,
    whatever kinds the engine adds later), with its place in the stream."""

    cursor: Cursor
    record: EventRecord

    @property
    def campaign_id(self) -> str:
        return self.record.campaign_id

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(Cursor(int(row.txid), int(row.seq)), EventRecord.from_row(row))


class EventStream:
    """Reads of the stream; nothing here writes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def after(self, cursor: Cursor, limit: int = 500) -> Sequence[StreamedEvent]:
        """Up to ``limit`` settled events after ``cursor``, in stream order."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                _AFTER, {"txid": cursor.txid, "seq": cursor.seq, "limit": limit}
            )
            return [StreamedEvent.from_row(r) for r in rows]

    async def head(self) -> Cursor:
        """The cursor of the newest settled event (``START`` when there is none): a reader
        starting here gets everything recorded from now on."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_HEAD)).first()
        return START if row is None else Cursor(int(row.txid), int(row.seq))

    async def position_of(self, event_id: str) -> Cursor | None:
        """Where an event sits in the stream; None for an id the trail does not hold."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_POSITION_OF, {"event_id": event_id})).first()
        return None if row is None else Cursor(int(row.txid), int(row.seq))
