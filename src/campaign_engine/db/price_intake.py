"""The durable price intake: what ``POST /prices`` accepted, and how far the price publisher
has delivered it.

- ``price_intake``: every accepted update, append-only, ``seq`` in the order accepted (one
  transaction per request, before the 202).
- ``price_intake_cursors``: per symbol, the last row merged into a bar the publisher has made
  and handed to the market listeners, and that bar's market time. Rows after it are pending: a
  new publisher merges them into its first bar.
- ``price_deliveries``: per campaign, the market time of the last bar it surely took
  (``delivered_until``) and of the last bar sent to it (``sending_until``), written before the
  send. When the two differ, the campaign may or may not have taken that bar: a new publisher
  sends it exactly that span again first, which the campaign either takes or ignores whole as
  stale. Never a bar reaching back over prices it has evaluated already.

Every append first screens its updates for bad prints (db/price_screens.py), under the same
lock: what is held back never enters the intake (an operator's release of it appends it
then, under that lock too: db/price_holds.py). What enters it enters ``price_bars`` (the
charts and the marks) in the same transaction.

Every API process appends; one at a time delivers (price_feed/leader.py), reading the rows after
the last it read in ``seq`` order. ``seq`` is drawn inside the append's transaction, so two
appends committing in the other order would let that reader skip the row committed second: an
append therefore takes a transaction-level advisory lock first, which makes ``seq`` order the
commit order (appends are one short transaction each; the API took them one at a time per
process already). The append notifies ``CHANNEL`` at commit, waking the deliverer at once.

Each write of the deliverer (``record``) is fenced: its transaction checks that the delivery
lock is still held by the deliverer's own session, so a process that lost the lock without
noticing yet records, and therefore sends, nothing (db/price_deliveries.py). The records of
symbols flushed together go in one transaction (a group commit).

Pruning (``prune``): a symbol keeps its newest ``keep`` rows (the publisher's own history
window, for campaigns that missed bars) and every row not yet merged into a bar; older rows go.
Deliveries of campaigns that have ended go too. The publisher prunes every few minutes, so the
tables stay bounded by symbols x window and by open campaigns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.price_bars import record_bars
from campaign_engine.db.price_deliveries import (
    Delivery,
    DeliveryRecord,
    Restored,
    check_leader,
    settle_deliveries,
    write_records,
)
from campaign_engine.db.price_screens import screen_batch, seed_references
from campaign_engine.db.schema import (
    campaigns,
    price_deliveries,
    price_intake,
    price_intake_cursors,
)
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.vocabulary import CampaignStatus
from campaign_engine.runtime.group_commit import GroupCommit
from campaign_engine.runtime.tracing import traceparent

CHANNEL = "price_intake"  # notified by every append, at its commit
APPEND_LOCK = 0x70726963_65617070  # transaction lock: one append at a time, seq = commit order

log = structlog.get_logger("campaign_engine.prices")


@dataclass(frozen=True, slots=True)
class IntakeRow:
    seq: int
    update: PriceUpdate
    received_at: datetime  # when it was accepted (the database's clock)
    traceparent: str | None  # the accepting request's trace, while the API traced


@dataclass(frozen=True, slots=True)
class Appended:
    seqs: list[int]  # the rows' seq, in the order appended (``taken``)
    too_old: int  # how many are not newer than a bar their symbol has made already
    taken: list[PriceUpdate] = field(default_factory=list)  # what entered the intake, in order
    held: int = 0  # updates held back as bad prints (db/price_screens.py)
    discarded: int = 0  # held updates this append refuted or replaced


class PriceIntake:
    """The intake; with ``leader_pid``, the journal of the process whose session (that backend
    pid) holds the delivery lock: its ``record`` fails with ``NotLeader`` once it does not."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        leader_pid: int | None = None,
        band_pct: Decimal = DEFAULT_POLICY.bad_print_band_pct,
    ) -> None:
        self._engine = engine
        self._leader_pid = leader_pid
        self._band_pct = band_pct  # the policy's bad_print_band_pct
        self.prints_held = 0  # by this process's appends
        self.prints_discarded = 0
        self._referenced: set[str] = set()  # symbols known to have a reference already
        self._records = GroupCommit(self._record_many)

    @property
    def record_writes(self) -> int:
        """Transactions ``record`` has written (each holding one or more records)."""
        return self._records.writes

    def fenced(self, leader_pid: int) -> "PriceIntake":
        return PriceIntake(self._engine, leader_pid=leader_pid, band_pct=self._band_pct)

    async def append(self, updates: Sequence[PriceUpdate]) -> Appended:
        """Screen ``updates`` for bad prints and make what passes durable, in one transaction;
        their ``seq``, in order, and how many came too late for any campaign."""
        if not updates:
            return Appended([], 0)
        async with self._engine.begin() as conn:
            await lock_appends(conn)
            screened = await screen_batch(conn, updates, self._band_pct)
            seqs = await insert_rows(conn, screened.taken)
        newest = screened.newest_bars
        self._referenced.update(u.symbol for u in screened.taken)
        self.prints_held += screened.held
        self.prints_discarded += screened.discarded
        if screened.held or screened.discarded:
            log.warning(
                "prices_screened",
                held=screened.held,
                discarded=screened.discarded,
                held_total=self.prints_held,
                discarded_total=self.prints_discarded,
            )
        taken = screened.taken
        too_old = sum(u.symbol in newest and u.as_of <= newest[u.symbol] for u in taken)
        return Appended(seqs, too_old, taken, screened.held, screened.discarded)

    async def seed(self, signals: Sequence[EntrySignal]) -> None:
        """Each signal's symbol that has no reference price yet gets the first one's entry
        price (db/price_screens.py); a round trip only for a symbol new to this process."""
        first: dict[str, Decimal] = {}
        for signal in signals:
            if signal.symbol not in self._referenced:
                first.setdefault(signal.symbol, signal.entry_price)
        if not first:
            return
        async with self._engine.begin() as conn:
            await seed_references(conn, first)
        self._referenced.update(first)

    async def after(self, seq: int, limit: int = 5_000) -> list[IntakeRow]:
        """The rows after ``seq``, in seq order (at most ``limit``)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    price_intake.c.seq,
                    price_intake.c.price_update,
                    price_intake.c.received_at,
                    price_intake.c.traceparent,
                )
                .where(price_intake.c.seq > seq)
                .order_by(price_intake.c.seq)
                .limit(limit)
            )
            return [
                IntakeRow(
                    r.seq,
                    PriceUpdate.model_validate(r.price_update),
                    r.received_at,
                    r.traceparent,
                )
                for r in rows
            ]

    async def restore(self) -> Restored:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(price_intake.c.seq, price_intake.c.price_update).order_by(price_intake.c.seq)
            )
            intake = [(r.seq, PriceUpdate.model_validate(r.price_update)) for r in rows]
            cursors = await conn.execute(select(price_intake_cursors))
            flushed = {r.symbol: r.flushed_seq for r in cursors}
            sent = await conn.execute(select(price_deliveries))
            deliveries = [Delivery(r.campaign_id, r.delivered_until, r.sending_until) for r in sent]
        return Restored(intake, flushed, deliveries)

    async def record(
        self,
        symbol: str,
        flushed: tuple[int, datetime] | None,
        sending: Sequence[Delivery],
    ) -> None:
        """Before sending: the symbol's cursor (the last row in the new bar, the bar's market
        time) and the bars about to be sent, durable when this returns. Records asked for while
        one is being written go together in the next transaction (``GroupCommit``): a burst
        flushes hundreds of symbols at once."""
        if flushed is None and not sending:
            return
        await self._records.submit(DeliveryRecord(symbol, flushed, tuple(sending)))

    async def _record_many(self, records: list[DeliveryRecord]) -> None:
        async with self._engine.begin() as conn:
            await check_leader(conn, self._leader_pid)
            await write_records(conn, records)

    async def settle(self, arrived: Mapping[str, datetime]) -> None:
        """At a clean stop: the bars the campaigns are known to have taken (campaign -> the
        last one's market time), so the next publisher sends none of them again."""
        if not arrived:
            return
        async with self._engine.begin() as conn:
            await check_leader(conn, self._leader_pid)
            await settle_deliveries(conn, arrived)

    async def prune(self, keep: int) -> int:
        """Drop the rows no publisher needs any more (see the module's docstring); how many
        intake rows went."""
        ended = (CampaignStatus.COMPLETED.value, CampaignStatus.INVALIDATED.value)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                text(
                    """
                    DELETE FROM price_intake AS i
                    USING (
                        SELECT seq, symbol,
                               row_number() OVER (PARTITION BY symbol ORDER BY seq DESC) AS age
                        FROM price_intake
                    ) AS ranked
                    JOIN price_intake_cursors AS c ON c.symbol = ranked.symbol
                    WHERE i.seq = ranked.seq AND ranked.age > :keep AND i.seq <= c.flushed_seq
                    """
                ),
                {"keep": keep},
            )
            await conn.execute(
                delete(price_deliveries).where(
                    price_deliveries.c.campaign_id.in_(
                        select(campaigns.c.campaign_id).where(campaigns.c.status.in_(ended))
                    )
                )
            )
        return int(result.rowcount or 0)


async def lock_appends(conn: AsyncConnection) -> None:
    # The notification goes out at commit, whenever it is asked for: one round trip.
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:key), pg_notify(:channel, '')"),
        {"key": APPEND_LOCK, "channel": CHANNEL},
    )


async def insert_rows(conn: AsyncConnection, updates: Sequence[PriceUpdate]) -> list[int]:
    """Append ``updates`` (and the same as bars for the charts and the marks: whatever the
    intake takes, they have at the same commit); their seqs, in order."""
    if not updates:
        return []
    # Inside the accepting request: its trace goes with the rows (None while not tracing).
    trace = traceparent()
    rows = [
        {"symbol": u.symbol, "price_update": u.model_dump(mode="json"), "traceparent": trace}
        for u in updates
    ]
    # One INSERT ... RETURNING of many rows gives their seqs in the rows' order.
    result = await conn.execute(
        insert(price_intake).returning(price_intake.c.seq, sort_by_parameter_order=True), rows
    )
    await record_bars(conn, updates)
    return [row.seq for row in result]


async def newest_bars(conn: AsyncConnection, symbols: set[str]) -> dict[str, datetime]:
    """Per symbol, the market time of the newest bar made of its rows (when one was)."""
    if not symbols:
        return {}
    made = await conn.execute(
        select(price_intake_cursors.c.symbol, price_intake_cursors.c.bar_as_of).where(
            price_intake_cursors.c.symbol.in_(symbols)
        )
    )
    return {r.symbol: r.bar_as_of for r in made if r.bar_as_of is not None}
