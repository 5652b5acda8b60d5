"""The portfolio's trading state in the database (SPEC section 11): its assessment inside a
campaign's save, and an operator's command. The rule itself is ``domain.trading_state``.

Marked equity is the portfolio's starting equity plus every campaign's realized and unrealized
P&L, as their exposure rows hold them. A save assesses it only when it can matter: when the
policy sets a loss limit (then the portfolio row is locked first in the save's transaction,
so assessments run one after the other and each sees the equity the one before it saw), or
when the saving campaign is losing (then equity is summed, unlocked, and only equity at or
below zero goes on to lock and assess). With no limit set and no loss, a save reads and locks
nothing more than before, so saves of different campaigns do not wait on each other."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.statements import RECORD_EVENT, driver, event_row
from campaign_engine.domain.events import CampaignEvent, TradingStateChanged
from campaign_engine.domain.money import ZERO, plus
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.trading_state import TradingRecord, assess, set_by_operator
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import TradingState
from campaign_engine.temporal.messages import PersistRequest

PORTFOLIO_EVENTS = "portfolio"
"""The campaign id the audit trail records the portfolio's own events under."""

_RECORD_COLUMNS = (
    "trading_state, trading_state_reason, equity_peak, market_day, day_open_equity, last_equity"
)
# Marked equity and the trading record; with FOR UPDATE it locks the portfolio row too.
_MARKED = (
    "SELECT p.starting_equity + COALESCE((SELECT sum(e.realized_pnl + e.unrealized_pnl)"  # noqa: S608
    f" FROM campaign_exposure e), 0), {_RECORD_COLUMNS} FROM portfolio p WHERE p.id = 1"
)
READ_MARKED = _MARKED
LOCK_MARKED = f"{_MARKED} FOR UPDATE OF p"
LOCK_ONLY = "SELECT 1 FROM portfolio WHERE id = 1 FOR UPDATE"
_UPDATE = (
    "UPDATE portfolio SET trading_state = %(state)s, trading_state_reason = %(reason)s,"
    " equity_peak = %(peak)s, market_day = %(day)s, day_open_equity = %(day_open)s,"
    " last_equity = %(last)s,"
    " trading_state_at = CASE WHEN %(changed)s THEN %(now)s ELSE trading_state_at END"
    " WHERE id = 1"
)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a save's assessment found: the state now, and the change it made (if any)."""

    state: TradingState
    change: TradingStateChanged | None = None


def record_of(row: tuple[Any, ...]) -> TradingRecord:
    """The trading record of the columns ``_RECORD_COLUMNS`` names, in that order."""
    state, reason, peak, day, day_open, last = row
    return TradingRecord(
        state=TradingState(state),
        reason=reason,
        equity_peak=_money(peak),
        market_day=day if isinstance(day, date) else None,
        day_open_equity=_money(day_open),
        last_equity=_money(last),
    )


def _money(value: Decimal | None) -> MoneyValue | None:
    return None if value is None else MoneyValue(Decimal(value))


def losing(request: PersistRequest) -> bool:
    """Whether the saved campaign's P&L, realized plus unrealized, is below zero: only then
    can its save take equity to zero or below."""
    state = request.state
    return state.exists and plus(state.realized_pnl, state.unrealized_pnl) < ZERO


async def assess_in_save(
    pg: psycopg.AsyncConnection[Any],
    request: PersistRequest,
    policy: Policy,
    equity_row: tuple[Any, ...],
    *,
    locked: bool,
) -> Assessment | None:
    """Assess marked equity after the save's writes (``equity_row`` read in its transaction),
    and store the record and any change with its event. ``locked``: the row was read under the
    portfolio's lock; if not, equity was summed unlocked and is assessed only at or below zero,
    read again under the lock."""
    equity = MoneyValue(Decimal(equity_row[0]))
    market_time = request.state.market_time
    if market_time is None:
        return None
    if not locked:
        if equity > ZERO:
            return None
        found = await pg.execute(LOCK_MARKED)
        equity_row = await found.fetchone() or equity_row
        equity = MoneyValue(Decimal(equity_row[0]))
    record, change = assess(record_of(equity_row[1:]), equity, market_time, policy)
    await _store(pg, record, changed=change is not None)
    if change is not None:
        state = request.state
        correlation = request.events[0].correlation_id if request.events else state.campaign_id
        await _record(
            pg,
            change,
            event_id=f"{PORTFOLIO_EVENTS}:{state.campaign_id}:r{request.revision}:trading-state",
            version=state.version,
            occurred_at=market_time,
            correlation_id=correlation,
        )
    return Assessment(record.state, change)


async def set_trading_state(
    engine: AsyncEngine, state: TradingState, reason: str
) -> tuple[TradingRecord, TradingStateChanged | None]:
    """An operator's command: the state set, with its event when it changed."""
    async with engine.begin() as conn:
        pg = await driver(conn)
        found = await pg.execute(LOCK_MARKED)
        row = await found.fetchone()
        if row is None:
            raise LookupError("no portfolio row: run the migrations first")
        equity = MoneyValue(Decimal(row[0]))
        record, change = set_by_operator(record_of(row[1:]), state, reason, equity)
        await _store(pg, record, changed=change is not None)
        if change is not None:
            now = datetime.now(UTC)
            await _record(
                pg,
                change,
                event_id=f"{PORTFOLIO_EVENTS}:operator:{now.isoformat()}:{uuid4()}",
                version=0,
                occurred_at=now,
                correlation_id=f"operator:{uuid4()}",
            )
        return record, change


async def _store(pg: psycopg.AsyncConnection[Any], record: TradingRecord, *, changed: bool) -> None:
    await pg.execute(
        _UPDATE,
        {
            "state": record.state.value,
            "reason": record.reason,
            "peak": record.equity_peak,
            "day": record.market_day,
            "day_open": record.day_open_equity,
            "last": record.last_equity,
            "changed": changed,
            "now": datetime.now(UTC),
        },
    )


async def _record(
    pg: psycopg.AsyncConnection[Any],
    change: TradingStateChanged,
    *,
    event_id: str,
    version: int,
    occurred_at: datetime,
    correlation_id: str,
) -> None:
    """The change into the audit trail and the outbox, like every campaign event."""
    event = CampaignEvent(
        event_id=event_id,
        campaign_id=PORTFOLIO_EVENTS,
        version=version,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        data=change,
    )
    await pg.execute(RECORD_EVENT.sql, event_row(event))
