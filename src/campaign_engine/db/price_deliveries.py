"""What the one delivering process writes of its deliveries (``price_intake_cursors`` and
``price_deliveries``, see db/price_intake.py), each write fenced by ``check_leader``: a
process that lost the delivery lock without noticing yet writes, and therefore sends, nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.schema import price_deliveries, price_intake_cursors
from campaign_engine.domain.market import PriceUpdate

DELIVERY_LOCK = 0x70726963_6564656C  # session lock: the one process that delivers


class NotLeader(Exception):
    """The delivery lock is not (or no longer) held by the session that was to hold it."""


@dataclass(frozen=True, slots=True)
class Delivery:
    campaign_id: str
    delivered_until: datetime | None
    """The last bar the campaign surely took (None: none yet)."""
    sending_until: datetime
    """The last bar sent to it, which it may not have taken."""


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """What one symbol's flush records before it sends (``PriceIntake.record``)."""

    symbol: str
    flushed: tuple[int, datetime] | None
    sending: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class Restored:
    rows: list[tuple[int, PriceUpdate]] = field(default_factory=list)  # in seq order
    flushed: dict[str, int] = field(default_factory=dict)  # symbol -> its cursor
    deliveries: list[Delivery] = field(default_factory=list)

    def taken(self) -> dict[str, list[PriceUpdate]]:
        """Per symbol, the rows a bar has taken, in market-time order."""
        taken: dict[str, list[PriceUpdate]] = {}
        for seq, update in self.rows:
            if seq <= self.flushed.get(update.symbol, -1):
                taken.setdefault(update.symbol, []).append(update)
        return {s: sorted(rows, key=lambda u: u.as_of) for s, rows in taken.items()}

    def pending(self) -> list[tuple[int, PriceUpdate]]:
        """The rows no bar has taken yet, in the order accepted."""
        return [(seq, u) for seq, u in self.rows if seq > self.flushed.get(u.symbol, -1)]


async def check_leader(conn: AsyncConnection, leader_pid: int | None) -> None:
    """NotLeader unless the session ``leader_pid`` holds the delivery lock (None: unfenced)."""
    if leader_pid is None:
        return
    held = await conn.scalar(
        text(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND pid = :pid
                  AND database = (SELECT oid FROM pg_database
                                  WHERE datname = current_database())
                  AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1
            )
            """
        ),
        {
            "pid": leader_pid,
            "high": DELIVERY_LOCK >> 32,
            "low": DELIVERY_LOCK & 0xFFFFFFFF,
        },
    )
    if not held:
        raise NotLeader(f"the price delivery lock is not held by backend {leader_pid}")


async def write_records(conn: AsyncConnection, records: Sequence[DeliveryRecord]) -> None:
    """The records' cursors and deliveries, merged, on ``conn`` (in its transaction)."""
    cursors: dict[str, tuple[int, datetime]] = {}
    deliveries: dict[str, Delivery] = {}
    for record in records:  # a symbol flushes one bar at a time; merged all the same
        if record.flushed is not None:
            known = cursors.get(record.symbol, record.flushed)
            cursors[record.symbol] = max(known, record.flushed)
        deliveries.update((d.campaign_id, d) for d in record.sending)
    if cursors:
        cursor = upsert(price_intake_cursors)
        current = price_intake_cursors.c
        await conn.execute(
            cursor.on_conflict_do_update(
                index_elements=["symbol"],
                set_={
                    "flushed_seq": func.greatest(current.flushed_seq, cursor.excluded.flushed_seq),
                    "bar_as_of": func.greatest(current.bar_as_of, cursor.excluded.bar_as_of),
                },
            ),
            [
                {"symbol": symbol, "flushed_seq": seq, "bar_as_of": bar_as_of}
                for symbol, (seq, bar_as_of) in sorted(cursors.items())
            ],
        )
    if deliveries:
        rows = [
            {
                "campaign_id": d.campaign_id,
                "delivered_until": d.delivered_until,
                "sending_until": d.sending_until,
            }
            for _, d in sorted(deliveries.items())  # one lock order for every writer
        ]
        statement = upsert(price_deliveries)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["campaign_id"],
                set_={
                    "delivered_until": statement.excluded.delivered_until,
                    "sending_until": statement.excluded.sending_until,
                },
            ),
            rows,
        )


async def settle_deliveries(conn: AsyncConnection, arrived: Mapping[str, datetime]) -> None:
    """Each campaign's bars up to its time surely taken (never past what was sent to it)."""
    rows = [
        {"campaign_id": c, "delivered_until": t, "sending_until": t} for c, t in arrived.items()
    ]
    statement = upsert(price_deliveries)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id"],
            set_={"delivered_until": statement.excluded.delivered_until},
            where=price_deliveries.c.sending_until <= statement.excluded.sending_until,
        ),
        rows,
    )
