"""Bad prints, durably (SPEC section 11; the rule: domain/print_screen.py).

The screen runs where the order of updates is fixed: inside the intake's append, under its
append lock (db/price_intake.py), so updates are judged in exactly the order they get their
``seq``, and what the screen holds is in the same transaction as the rows it let through.
Nothing held ever enters the intake, so the publisher, its leader election and its resuming
after a crash never see one; a restart or a change of leader changes nothing here.

- ``price_screens``: per symbol, the last accepted price (the reference). A symbol without
  one yet takes the entry price of the first signal given for it (``seed_references``, by
  POST /signals): a campaign's first price is screened too, against the price it entered at.
- ``price_holds``: every update held back, with what became of it: ``held`` (at most one per
  symbol), ``confirmed`` (the next update was near it: both entered the intake, in order),
  ``discarded`` (refuted by the next update, replaced by a second bad print, or dropped by an
  operator) or ``released`` (an operator let it in).

What an operator sees of them and does with them: db/price_holds.py.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import structlog
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.schema import price_holds, price_screens
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.print_screen import PrintScreen, Verdict, screen_update
from campaign_engine.domain.types import PriceValue

log = structlog.get_logger("campaign_engine.prices")


class HoldStatus(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    DISCARDED = "discarded"


@dataclass(slots=True)
class ScreenedBatch:
    taken: list[PriceUpdate] = field(default_factory=list)  # into the intake, in this order
    held: int = 0  # updates held back by this batch
    discarded: int = 0  # held updates this batch refuted or replaced
    # per symbol, the market time of its newest bar (read with the screens, for the caller)
    newest_bars: dict[str, datetime] = field(default_factory=dict)


@dataclass(slots=True)
class _Symbol:
    screen: PrintScreen
    hold_id: int | None  # the held update's row
    changed: bool = False


async def screen_batch(
    conn: AsyncConnection, updates: Sequence[PriceUpdate], band_pct: Decimal
) -> ScreenedBatch:
    """Judge ``updates`` in order against their symbols' screens and record the outcome; the
    caller holds the append lock and appends ``taken`` in the same transaction."""
    symbols, newest_bars = await _load(conn, {u.symbol for u in updates})
    batch = ScreenedBatch(newest_bars=newest_bars)
    for update_ in updates:
        entry = symbols.setdefault(update_.symbol, _Symbol(PrintScreen(), None))
        screened = screen_update(entry.screen, update_, band_pct)
        verdict = screened.verdict
        if verdict is not Verdict.PASSED:
            await _resolve(conn, entry, screened.verdict, update_)
        if verdict in (Verdict.HELD, Verdict.REPLACED):
            entry.hold_id = await _hold(conn, update_, entry.screen.reference)
            batch.held += 1
        batch.discarded += verdict in (Verdict.REFUTED, Verdict.REPLACED)
        batch.taken.extend(screened.taken)
        entry.changed |= screened.screen.reference != entry.screen.reference
        entry.screen = screened.screen
    changed = [
        {"symbol": symbol, "reference": entry.screen.reference}
        for symbol, entry in symbols.items()
        if entry.changed and entry.screen.reference is not None
    ]
    if changed:
        await set_references(conn, changed)
    return batch


# One round trip for what an append needs to know of its symbols: the references, the updates
# held, and (for the caller's too-old count) the market time of each symbol's newest bar.
_LOAD = text(
    """
    SELECT 'reference' AS kind, symbol, reference, NULL::bigint AS hold_id,
           NULL::jsonb AS price_update, NULL::timestamptz AS bar_as_of
    FROM price_screens WHERE symbol = ANY(:symbols)
    UNION ALL
    SELECT 'held', symbol, NULL, hold_id, price_update, NULL
    FROM price_holds WHERE status = 'held' AND symbol = ANY(:symbols)
    UNION ALL
    SELECT 'bar', symbol, NULL, NULL, NULL, bar_as_of
    FROM price_intake_cursors WHERE bar_as_of IS NOT NULL AND symbol = ANY(:symbols)
    """
)


async def _load(
    conn: AsyncConnection, symbols: set[str]
) -> tuple[dict[str, _Symbol], dict[str, datetime]]:
    loaded: dict[str, _Symbol] = {}
    newest_bars: dict[str, datetime] = {}
    rows = (await conn.execute(_LOAD, {"symbols": sorted(symbols)})).all()
    for row in sorted(rows, key=lambda r: r.kind != "reference"):  # references first
        if row.kind == "bar":
            newest_bars[row.symbol] = row.bar_as_of
        elif row.kind == "reference":
            loaded[row.symbol] = _Symbol(PrintScreen(PriceValue(row.reference)), None)
        else:
            entry = loaded.setdefault(row.symbol, _Symbol(PrintScreen(), None))
            update_ = PriceUpdate.model_validate(row.price_update)
            entry.screen = PrintScreen(entry.screen.reference, update_)
            entry.hold_id = row.hold_id
    return loaded, newest_bars


async def _hold(conn: AsyncConnection, update_: PriceUpdate, reference: Decimal | None) -> int:
    hold_id = await conn.scalar(
        insert(price_holds)
        .values(
            symbol=update_.symbol,
            price_update=update_.model_dump(mode="json"),
            reference=reference,
            held_at=func.now(),
            status=HoldStatus.HELD.value,
        )
        .returning(price_holds.c.hold_id)
    )
    log.warning(
        "price_held",
        symbol=update_.symbol,
        as_of=update_.as_of.isoformat(),
        low=format(update_.bar_low, "f"),
        high=format(update_.bar_high, "f"),
        reference=None if reference is None else format(reference, "f"),
        hold_id=hold_id,
    )
    return int(hold_id)


_RESOLUTIONS = {
    Verdict.CONFIRMED: (HoldStatus.CONFIRMED, "confirmed by the next update, near it"),
    Verdict.REFUTED: (HoldStatus.DISCARDED, "refuted by the next update, near the last price"),
    Verdict.REPLACED: (HoldStatus.DISCARDED, "replaced by the next update, far from both"),
}


async def _resolve(
    conn: AsyncConnection, entry: _Symbol, verdict: Verdict, by: PriceUpdate
) -> None:
    resolution = _RESOLUTIONS.get(verdict)
    if resolution is None or entry.hold_id is None:
        return
    status, why = resolution
    said = f"{why} (as of {by.as_of.isoformat()}, {by.bar_low:f}..{by.bar_high:f})"
    await set_hold_status(conn, entry.hold_id, status, said)
    log.warning("price_hold_resolved", symbol=by.symbol, hold_id=entry.hold_id, status=status.value)
    entry.hold_id = None


async def set_hold_status(
    conn: AsyncConnection, hold_id: int, status: HoldStatus, why: str
) -> datetime | None:
    """The hold's new status; when it was resolved (the transaction's time)."""
    resolved: datetime | None = await conn.scalar(
        update(price_holds)
        .where(price_holds.c.hold_id == hold_id)
        .values(status=status.value, resolved_at=func.now(), resolution=why)
        .returning(price_holds.c.resolved_at)
    )
    return resolved


async def set_references(conn: AsyncConnection, rows: list[dict[str, object]]) -> None:
    statement = upsert(price_screens)
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["symbol"], set_={"reference": statement.excluded.reference}
        ),
        rows,
    )


async def seed_references(conn: AsyncConnection, prices: Mapping[str, Decimal]) -> None:
    """A first reference for the symbols that have none yet (an entry signal's price)."""
    await conn.execute(
        upsert(price_screens).on_conflict_do_nothing(index_elements=["symbol"]),
        [{"symbol": symbol, "reference": price} for symbol, price in prices.items()],
    )


async def references(conn: AsyncConnection) -> dict[str, PriceValue]:
    """Every symbol's last accepted price."""
    rows = await conn.execute(select(price_screens.c.symbol, price_screens.c.reference))
    return {r.symbol: PriceValue(r.reference) for r in rows}
