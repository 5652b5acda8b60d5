"""What an operator sees of the price updates held back as bad prints (SPEC section 11;
the screen: db/price_screens.py) and does with them: release one (it is appended to the intake
as if accepted now, under the append lock, and becomes its symbol's reference) or discard it.

A released update reaches the campaigns at its own market time or, when its symbol has made a
bar at or after that time already, it is too late for any campaign and counted as such
(``too_old``), like any late update; it becomes the reference either way."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.price_intake import insert_rows, lock_appends, newest_bars
from campaign_engine.db.price_screens import HoldStatus, set_hold_status, set_references
from campaign_engine.db.schema import price_holds
from campaign_engine.domain.market import PriceUpdate

log = structlog.get_logger("campaign_engine.prices")


@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: int
    symbol: str
    update: PriceUpdate
    reference: Decimal  # the symbol's last accepted price when it was held
    held_at: datetime
    status: HoldStatus
    resolved_at: datetime | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class Released:
    hold: Hold
    seq: int  # its intake row
    too_old: bool  # its symbol has made a bar at or after its market time already


class HoldNotFound(LookupError):
    pass


class NotHeld(Exception):
    def __init__(self, hold: Hold) -> None:
        super().__init__(f"price hold {hold.hold_id} is {hold.status.value}, no longer held")
        self.hold = hold


class HeldPrices:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def holds(
        self,
        *,
        status: HoldStatus | None = HoldStatus.HELD,
        symbol: str | None = None,
        limit: int = 100,
    ) -> list[Hold]:
        """The newest first; ``status`` None: whatever became of them."""
        query = select(price_holds).order_by(price_holds.c.hold_id.desc()).limit(limit)
        if status is not None:
            query = query.where(price_holds.c.status == status.value)
        if symbol is not None:
            query = query.where(price_holds.c.symbol == symbol)
        async with self._engine.connect() as conn:
            return [_hold_of(row) for row in await conn.execute(query)]

    async def release(self, hold_id: int) -> Released:
        """Let a held update in. HoldNotFound, or NotHeld when it is resolved already."""
        async with self._engine.begin() as conn:
            await lock_appends(conn)
            hold = await _resolve(conn, hold_id, HoldStatus.RELEASED, "released by an operator")
            await set_references(conn, [{"symbol": hold.symbol, "reference": hold.update.last}])
            (seq,) = await insert_rows(conn, [hold.update])
            newest = await newest_bars(conn, {hold.symbol})
        too_old = hold.symbol in newest and hold.update.as_of <= newest[hold.symbol]
        return Released(hold, seq, too_old)

    async def discard(self, hold_id: int) -> Hold:
        """Drop a held update. HoldNotFound, or NotHeld when it is resolved already."""
        async with self._engine.begin() as conn:
            await lock_appends(conn)  # the screen reads what is held under this lock
            return await _resolve(conn, hold_id, HoldStatus.DISCARDED, "discarded by an operator")


async def _resolve(conn: AsyncConnection, hold_id: int, status: HoldStatus, why: str) -> Hold:
    row = (await conn.execute(select(price_holds).where(price_holds.c.hold_id == hold_id))).first()
    if row is None:
        raise HoldNotFound(f"no price hold {hold_id}")
    hold = _hold_of(row)
    if hold.status is not HoldStatus.HELD:
        raise NotHeld(hold)
    resolved_at = await set_hold_status(conn, hold_id, status, why)
    log.warning("price_hold_resolved", symbol=hold.symbol, hold_id=hold_id, status=status.value)
    return replace(hold, status=status, resolved_at=resolved_at, resolution=why)


def _hold_of(row: Row[Any]) -> Hold:
    return Hold(
        hold_id=row.hold_id,
        symbol=row.symbol,
        update=PriceUpdate.model_validate(row.price_update),
        reference=row.reference,
        held_at=row.held_at,
        status=HoldStatus(row.status),
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )
