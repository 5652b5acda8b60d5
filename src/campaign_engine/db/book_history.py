"""The book's history from ``exposure_history`` (each campaign's exposure at every save, at the
market time of the change): how much each moment's saves moved the book, for
``domain.book_history`` to fold."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.domain.book_history import BookChange, BookPoint
from campaign_engine.domain.types import MoneyValue

# Each save's row less the campaign's row before it: what that save moved. Summed per moment.
_CHANGES = text(
    "WITH moved AS (SELECT occurred_at,"
    " realized_pnl - COALESCE(lag(realized_pnl) OVER w, 0) AS realized,"
    " unrealized_pnl - COALESCE(lag(unrealized_pnl) OVER w, 0) AS unrealized,"
    " open_risk - COALESCE(lag(open_risk) OVER w, 0) AS open,"
    " reserved_risk - COALESCE(lag(reserved_risk) OVER w, 0) AS reserved"
    " FROM exposure_history WINDOW w AS (PARTITION BY campaign_id ORDER BY revision))"
    " SELECT occurred_at, sum(realized), sum(unrealized), sum(open), sum(reserved)"
    " FROM moved GROUP BY occurred_at ORDER BY occurred_at"
)


def _money(value: Decimal) -> MoneyValue:
    return MoneyValue(Decimal(value))


async def book_changes(conn: AsyncConnection) -> list[BookChange]:
    """Every moment the book changed, oldest first."""
    rows = await conn.execute(_CHANGES)
    return [
        BookChange(
            at=at,
            realized_pnl=_money(realized),
            unrealized_pnl=_money(unrealized),
            open_risk=_money(open_risk),
            reserved_risk=_money(reserved),
        )
        for at, realized, unrealized, open_risk, reserved in rows
    ]


@dataclass(frozen=True, slots=True)
class BookHistory:
    starting_equity: MoneyValue
    points: list[BookPoint]  # after each change, oldest first
    days: list[tuple[date, MoneyValue]]  # realized P&L by market day
