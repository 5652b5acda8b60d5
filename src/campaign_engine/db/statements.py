"""The SQL of the hot path (a campaign's save, the portfolio reservation, the paper broker) as
text built once at import, to run on the psycopg connection under SQLAlchemy's.

Building and compiling a SQLAlchemy Core statement costs the worker milliseconds of CPU per
call, more than the database spends running it; a ready text costs nothing. The writes are
derived from the tables of ``db/schema/``, so their column lists follow the schema, and each
names the parameters a row must supply (``Write.columns``). Placeholders are psycopg's
``%(name)s``. JSONB goes in as JSON text with a cast, and comes out as text, so that pydantic
(in Rust) does the JSON work rather than ``json``. The few reads and the one update name their
columns in plain SQL; every one of them runs in the end-to-end tests.
"""

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.sql import Identifier
from pydantic import TypeAdapter
from sqlalchemy import Column, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    broker_orders,
    campaign_exposure,
    campaign_snapshots,
    campaigns,
    exposure_history,
    orders,
    outbox,
    positions,
    risk_reservations,
)
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.formats.event_json import EVENT_DATA


def _quote(name: str) -> str:
    return Identifier(name).as_string()


@dataclass(frozen=True, slots=True)
class Write:
    """A statement writing one row: ``execute`` it with one row, ``executemany`` with many.
    A row is a mapping of every name in ``columns``."""

    sql: str
    columns: tuple[str, ...]


async def driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under ``conn``. What runs on it belongs to ``conn``'s transaction:
    SQLAlchemy sends no BEGIN of its own on psycopg, which opens the transaction with the first
    statement whoever sends it, and ``conn`` commits or rolls back that one."""
    raw = (await conn.get_raw_connection()).driver_connection
    if not isinstance(raw, psycopg.AsyncConnection):
        raise TypeError(f"expected a psycopg connection, got {type(raw).__name__}")
    return raw


def json_param(adapter: TypeAdapter[Any], value: object) -> str:
    """A value as JSON text for a ``::jsonb`` placeholder (text: bytes would go as bytea)."""
    return adapter.dump_json(value).decode()


def _written(table: Table) -> tuple[Column[Any], ...]:
    """The columns a row supplies: all but those the database fills (identity, defaults)."""
    return tuple(c for c in table.c if c.identity is None and c.server_default is None)


def _placeholder(column: Column[Any]) -> str:
    parameter = f"%({column.name})s"
    return f"{parameter}::jsonb" if isinstance(column.type, JSONB) else parameter


def _insert(table: Table, conflict: str) -> Write:
    columns = _written(table)
    names = ", ".join(_quote(c.name) for c in columns)
    values = ", ".join(_placeholder(c) for c in columns)
    into = f"INSERT INTO {_quote(table.name)} ({names})"
    return Write(f"{into} VALUES ({values}) ON CONFLICT {conflict}", tuple(c.name for c in columns))


def _insert_new(table: Table, key: Column[Any]) -> Write:
    """Insert, or nothing when a row with this key is there already."""
    return _insert(table, f"({_quote(key.name)}) DO NOTHING")


def _upsert(
    table: Table,
    key: Column[Any],
    guard: Column[Any],
    operator: str,
    keep: tuple[Column[Any], ...] = (),
) -> Write:
    """Insert, or replace every other column but ``keep`` when ``stored.guard <operator>
    incoming.guard``."""
    kept = {key, *keep}
    assignments = ", ".join(
        f"{_quote(c.name)} = EXCLUDED.{_quote(c.name)}" for c in _written(table) if c not in kept
    )
    guarded = _quote(guard.name)
    condition = f"{_quote(table.name)}.{guarded} {operator} EXCLUDED.{guarded}"
    return _insert(table, f"({_quote(key.name)}) DO UPDATE SET {assignments} WHERE {condition}")


def _upsert_if_newer(table: Table, key: Column[Any], version: Column[Any]) -> Write:
    """A stale or retried write changes nothing."""
    return _upsert(table, key, version, "<")


def _record_and_enqueue() -> Write:
    """An event into the audit trail and, only if it was not there yet, its sequence number
    into the outbox. A retried save enqueues nothing again, even once a relay has emptied the
    outbox: the trail, which is append-only, remembers what was recorded."""
    record = _insert_new(audit_trail, audit_trail.c.event_id)
    seq, queued = _quote(audit_trail.c.seq.name), _quote(outbox.c.audit_seq.name)
    return Write(
        f"WITH recorded AS ({record.sql} RETURNING {seq}) "  # noqa: S608 - identifiers only
        f"INSERT INTO {_quote(outbox.name)} ({queued}) SELECT {seq} FROM recorded",
        record.columns,
    )


# --- a campaign's save, in this order (parents before children) ---------------------------

SAVE_SNAPSHOT = _upsert_if_newer(
    campaign_snapshots, campaign_snapshots.c.campaign_id, campaign_snapshots.c.revision
)
SAVE_CAMPAIGN = _upsert_if_newer(campaigns, campaigns.c.campaign_id, campaigns.c.version)
SAVE_POSITION = _upsert_if_newer(positions, positions.c.id, positions.c.version)
SAVE_ORDER = _upsert_if_newer(orders, orders.c.client_order_id, orders.c.version)
# <= rather than <: the campaign's own snapshot at the version of a reservation replaces that
# reservation's provisional figures.
SAVE_EXPOSURE = _upsert(
    campaign_exposure, campaign_exposure.c.campaign_id, campaign_exposure.c.version, "<="
)
RECORD_PLAN = _insert_new(allocation_plans, allocation_plans.c.signal_id)
# A retried save appends nothing again.
RECORD_EXPOSURE_HISTORY = _insert(exposure_history, '("campaign_id", "revision") DO NOTHING')
RECORD_EVENT = _record_and_enqueue()

LOAD_SNAPSHOT = (
    "SELECT state::text, revision FROM campaign_snapshots WHERE campaign_id = %(campaign_id)s"
)

# --- the portfolio reservation -------------------------------------------------------------

# The portfolio row, locked for the transaction, with an earlier answer to the same signal.
# The server's clock, read just before asking for the portfolio's lock and just after holding
# it: statements of a pipeline run one after the other, so the difference is the wait.
CLOCK = "SELECT clock_timestamp()"
LOCK_PORTFOLIO = (
    "SELECT p.starting_equity, r.admission::text, p.trading_state, p.trading_state_reason"
    " FROM portfolio p"
    " LEFT JOIN risk_reservations r ON r.signal_id = %(signal_id)s"
    " WHERE p.id = 1 FOR UPDATE OF p"
)
# Every other campaign's risk and realized P&L, per symbol.
OTHERS_BY_SYMBOL = (
    "SELECT symbol, sum(open_risk + reserved_risk), sum(realized_pnl) FROM campaign_exposure"
    " WHERE campaign_id <> %(campaign_id)s GROUP BY symbol"
)
RECORD_RESERVATION = _insert_new(risk_reservations, risk_reservations.c.signal_id)
# A reservation's provisional exposure: the campaign's unrealized P&L stays what its last save
# wrote (the request does not carry it).
RESERVE_EXPOSURE = _upsert(
    campaign_exposure,
    campaign_exposure.c.campaign_id,
    campaign_exposure.c.version,
    "<=",
    keep=(campaign_exposure.c.unrealized_pnl,),
)

# --- the paper broker's book ---------------------------------------------------------------

PLACE_BROKER_ORDER = _insert_new(broker_orders, broker_orders.c.client_order_id)
GET_BROKER_ORDER = (
    "SELECT status, filled_quantity, fills::text, reason FROM broker_orders"
    " WHERE client_order_id = %(client_order_id)s"
)
CANCEL_BROKER_ORDER = (
    "UPDATE broker_orders SET status = %(cancelled)s, updated_at = %(now)s"
    " WHERE client_order_id = %(client_order_id)s AND status = %(open)s"
)
# BUY orders of a symbol still open in the brokers' own book (paper or simulated), with their
# limits, a cancel not yet confirmed included.
BROKER_OPEN_BUYS = (
    "SELECT client_order_id, limit_price FROM broker_orders"
    " WHERE symbol = %(symbol)s AND side = 'BUY' AND status IN ('OPEN', 'PENDING_CANCEL')"
    " ORDER BY submitted_at, client_order_id"
)
BROKER_POSITION = (
    "SELECT COALESCE(SUM(CASE side WHEN 'BUY' THEN filled_quantity ELSE -filled_quantity END), 0)"
    " FROM broker_orders WHERE symbol = %(symbol)s"
)


def event_row(event: CampaignEvent) -> dict[str, Any]:
    """An event as ``RECORD_EVENT`` writes it (to the audit trail and the outbox)."""
    return {
        "event_id": event.event_id,
        "campaign_id": event.campaign_id,
        "event_type": event.type.value,
        "version": event.version,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "data": json_param(EVENT_DATA, event.data),
    }
