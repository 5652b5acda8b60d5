"""Pages of campaigns: filtered by status and by symbol (whole or a prefix), in the order a
trader asks for, each campaign marked to market (``db.marks``).

Every order ends on the campaign id, so a page is the same slice however often it is asked
for. P&L moves with prices that write nothing (a mark is the newest accepted price, not a
column), so ordering by it marks every campaign the filter matches and sorts them here: one
read of their positions and one index probe per symbol. The other orders are the database's.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.marks import mark_inputs
from campaign_engine.db.records import CampaignPage, CampaignRecord
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.marks import CampaignMark
from campaign_engine.domain.types import MoneyValue, normalise_symbol
from campaign_engine.domain.vocabulary import CampaignStatus

MAX_PAGE = 100
# Far beyond any real listing, and well inside PostgreSQL's bigint: a larger offset is bad
# input, not a question for the database.
MAX_OFFSET = 1_000_000_000


class CampaignOrder(StrEnum):
    """How a page is ordered; a leading ``-`` is descending (largest, newest first)."""

    NEWEST = "-created"
    OLDEST = "created"
    RECENTLY_UPDATED = "-updated"
    LEAST_RECENTLY_UPDATED = "updated"
    PNL_HIGH = "-pnl"
    PNL_LOW = "pnl"
    RISK_HIGH = "-risk"
    RISK_LOW = "risk"
    COMMITTED_HIGH = "-committed"
    COMMITTED_LOW = "committed"
    SYMBOL = "symbol"
    SYMBOL_DESCENDING = "-symbol"

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    @property
    def key(self) -> str:
        return self.value.removeprefix("-")


_SQL_KEYS: Mapping[str, ColumnElement[Any]] = {
    "created": campaigns.c.created_at,
    "updated": campaigns.c.updated_at,
    "risk": campaigns.c.open_risk,  # current risk is open risk over the one equity
    "committed": campaigns.c.open_risk + campaigns.c.reserved_risk,
    "symbol": campaigns.c.symbol,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignFilter:
    status: CampaignStatus | None = None
    symbol: str | None = None  # the whole symbol, any case
    symbol_prefix: str | None = None  # the symbol starts with it, any case

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(campaigns.c.status == self.status.value)
        if self.symbol is not None:
            found.append(campaigns.c.symbol == normalise_symbol(self.symbol))
        if self.symbol_prefix is not None:
            prefix = normalise_symbol(self.symbol_prefix)
            found.append(campaigns.c.symbol.startswith(prefix, autoescape=True))
        return found


class MarkedPage(CampaignPage):
    """A page whose campaigns carry their marks."""

    __slots__ = ("marks",)

    def __init__(
        self,
        items: list[CampaignRecord],
        marks: Mapping[str, CampaignMark],
        *,
        total_count: int,
        limit: int,
        offset: int,
    ) -> None:
        super().__init__(items, total_count=total_count, limit=limit, offset=offset)
        self.marks = dict(marks)


async def campaign_page(
    conn: AsyncConnection,
    equity: MoneyValue,
    *,
    where: CampaignFilter,
    order: CampaignOrder,
    limit: int,
    offset: int,
) -> MarkedPage:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
    conditions = where.conditions()
    total = (
        await conn.execute(select(func.count()).select_from(campaigns).where(*conditions))
    ).scalar_one()
    query: Select[Any] = select(campaigns).where(*conditions)
    if order.key == "pnl":
        rows = (await conn.execute(query)).all()
        records = [CampaignRecord.from_row(r, equity) for r in rows]
        inputs = await mark_inputs(conn, records, equity)
        marks = {r.campaign_id: inputs.mark(r) for r in records}
        records.sort(key=lambda r: r.campaign_id)
        records.sort(key=lambda r: marks[r.campaign_id].total_pnl, reverse=order.descending)
        shown = records[offset : offset + limit]
        marks = {r.campaign_id: marks[r.campaign_id] for r in shown}
    else:
        column = _SQL_KEYS[order.key]
        query = query.order_by(
            column.desc() if order.descending else column.asc(), campaigns.c.campaign_id
        )
        rows = (await conn.execute(query.limit(limit).offset(offset))).all()
        shown = [CampaignRecord.from_row(r, equity) for r in rows]
        inputs = await mark_inputs(conn, shown, equity)
        marks = {r.campaign_id: inputs.mark(r) for r in shown}
    return MarkedPage(shown, marks, total_count=int(total), limit=limit, offset=offset)
