"""Reads and writes of campaign data. Every write is idempotent: a retried write changes
nothing, and a stale snapshot never overwrites a newer one.

The calls on the hot path of a decision (``save``, ``reserve``, ``load_state``) run the ready
SQL of ``db/statements.py`` on the psycopg connection, inside SQLAlchemy's transaction, with
the statements of one step pipelined into one round trip."""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.schema import portfolio
from campaign_engine.db.statements import (
    CLOCK,
    LOAD_SNAPSHOT,
    LOCK_PORTFOLIO,
    OTHERS_BY_SYMBOL,
    RECORD_EVENT,
    RECORD_EXPOSURE_HISTORY,
    RECORD_PLAN,
    RECORD_RESERVATION,
    RESERVE_EXPOSURE,
    SAVE_CAMPAIGN,
    SAVE_EXPOSURE,
    SAVE_ORDER,
    SAVE_POSITION,
    SAVE_SNAPSHOT,
    Write,
    driver,
    event_row,
    json_param,
)
from campaign_engine.db.trading_state import (
    LOCK_ONLY,
    READ_MARKED,
    Assessment,
    assess_in_save,
    losing,
)
from campaign_engine.domain.campaign import exposure_of
from campaign_engine.domain.entry import Admission, AdmissionRequest, admit_entry
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.money import NO_MONEY, plus, total
from campaign_engine.domain.orders import OrderRecord
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import DEFAULT_POLICY, Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import TradingState
from campaign_engine.temporal.messages import PersistRequest

STATE = TypeAdapter(CampaignState)
ADMISSION = TypeAdapter(Admission)
_PRICES = TypeAdapter(tuple[Decimal, ...])

Row = dict[str, Any]


class PortfolioNotInitialised(RuntimeError):
    """The portfolio row is missing: run the migrations and ``ensure_portfolio`` first."""


def _now() -> datetime:
    return datetime.now(UTC)


class CampaignRepository:
    def __init__(
        self,
        engine: AsyncEngine,
        policy: Policy = DEFAULT_POLICY,
        *,
        lock_waited: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        """``policy``: the one in force, whose loss limits halt trading (SPEC section 11);
        ``lock_waited``: told how long each entry waited for the portfolio's lock (seconds)."""
        self.engine = engine
        self.policy = policy
        self._lock_waited = lock_waited

    async def ensure_portfolio(self, starting_equity: Decimal) -> None:
        """The account's starting equity (``ACCOUNT_EQUITY``); the latest setting wins."""
        async with self.engine.begin() as conn:
            stmt = insert(portfolio).values(id=1, starting_equity=starting_equity)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[portfolio.c.id],
                    set_={"starting_equity": stmt.excluded.starting_equity},
                )
            )

    # --- the campaign's own state -------------------------------------------------------

    async def load_state(self, campaign_id: str) -> tuple[CampaignState | None, int]:
        """The last persisted state of a campaign id and its revision (None, 0 if never)."""
        async with self.engine.connect() as conn:
            pg = await driver(conn)
            found = await pg.execute(LOAD_SNAPSHOT, {"campaign_id": campaign_id})
            row = await found.fetchone()
        if row is None:
            return None, 0
        state, revision = row
        return STATE.validate_json(state), int(revision)

    async def save(self, request: PersistRequest) -> Assessment | None:
        """Persist a snapshot with the events of its change, in one transaction and one round
        trip before the commit. Each event the audit trail did not hold yet is enqueued in the
        outbox with it; a retried save records no event again, so it enqueues none again.

        When a loss limit is set, or the campaign is losing, the portfolio's marked equity is
        assessed in the same transaction (``db.trading_state``): what it found is returned
        (None when nothing was assessed)."""
        watched = self.policy.limits_trading
        summed = watched or losing(request)
        async with self.engine.begin() as conn:
            pg = await driver(conn)
            async with pg.pipeline(), pg.cursor() as cursor:
                if watched:  # the lock first: assessments run one after the other
                    await cursor.execute(LOCK_ONLY)
                for write, rows in save_writes(request, _now()):
                    await cursor.executemany(write.sql, rows)
                marked = await pg.execute(READ_MARKED) if summed else None
            if marked is None:
                return None
            row = await marked.fetchone()
            if row is None:
                raise PortfolioNotInitialised("no portfolio row: run the migrations first")
            return await assess_in_save(pg, request, self.policy, row, locked=watched)

    # --- the portfolio ------------------------------------------------------------------

    async def reserve(self, request: AdmissionRequest) -> Admission:
        """Admit an entry against every campaign's risk and reserve it, atomically.

        The portfolio row is locked for the transaction, so concurrent entries from any number
        of campaigns are decided one after the other, each seeing the risk the one before it
        reserved. The answer is stored by signal id: asking again returns the same answer.
        """
        async with self.engine.begin() as conn:
            pg = await driver(conn)
            # One round trip. Statements run in order, and under READ COMMITTED each reads what
            # was committed when it starts: the sums are read once the lock is held, so they
            # include what the reservation before this one wrote.
            async with pg.pipeline():
                asked = await pg.execute(CLOCK)
                head = await pg.execute(LOCK_PORTFOLIO, {"signal_id": request.signal_id})
                held = await pg.execute(CLOCK)
                others = await pg.execute(OTHERS_BY_SYMBOL, {"campaign_id": request.campaign_id})
            self._lock_waited(await _between(asked, held))
            locked = await head.fetchone()
            if locked is None:
                raise PortfolioNotInitialised("no portfolio row: run the migrations first")
            starting_equity, earlier, trading_state, reason = locked
            if earlier is not None:
                return ADMISSION.validate_json(earlier)
            view = _portfolio_view(request, starting_equity, await others.fetchall())
            admission = admit_entry(
                replace(view, trading_state=TradingState(trading_state), trading_reason=reason),
                request,
            )
            async with pg.pipeline(), pg.cursor() as cursor:
                if admission.approved:
                    await cursor.execute(
                        RESERVE_EXPOSURE.sql, _reserved_exposure_row(request, admission)
                    )
                await cursor.execute(RECORD_RESERVATION.sql, _reservation_row(request, admission))
            return admission


async def _between(before: Any, after: Any) -> float:
    """Seconds between two ``CLOCK`` reads."""
    (start,), (end,) = await before.fetchone(), await after.fetchone()
    return float((end - start).total_seconds())


def _portfolio_view(
    request: AdmissionRequest, starting_equity: MoneyValue, by_symbol: Sequence[tuple[Any, ...]]
) -> PortfolioView:
    """The portfolio as the database summed it: every other campaign's risk per symbol (the
    requesting campaign's own is in the request)."""
    realized = plus(total(pnl for _, _, pnl in by_symbol), request.realized_pnl)
    others = tuple(
        Exposure(campaign_id=f"others:{symbol}", symbol=symbol, open_risk=risk)
        for symbol, risk, _ in by_symbol
    )
    return PortfolioView(equity=plus(starting_equity, realized), exposures=others)


def save_writes(request: PersistRequest, now: datetime) -> list[tuple[Write, list[Row]]]:
    """The statements of one save with their rows, parents before children; none without
    rows. A campaign that does not exist yet (its first signal refused) has only its snapshot
    and the plans it remembers."""
    state = request.state
    writes: list[tuple[Write, list[Row]]] = [(SAVE_SNAPSHOT, [_snapshot_row(request, now)])]
    if state.exists:
        writes += [
            (SAVE_CAMPAIGN, [_campaign_row(state, now)]),
            (SAVE_POSITION, [_position_row(p, state.version) for p in state.positions]),
            (SAVE_ORDER, [_order_row(r, state.version) for r in state.orders]),
            (SAVE_EXPOSURE, [_exposure_row(exposure_of(state), state, state.version)]),
            (RECORD_EXPOSURE_HISTORY, [_history_row(exposure_of(state), request)]),
        ]
    writes += [
        (RECORD_PLAN, [_plan_row(p) for p in state.plans]),
        (RECORD_EVENT, [event_row(e) for e in request.events]),
    ]
    return [(write, rows) for write, rows in writes if rows]


def _snapshot_row(request: PersistRequest, now: datetime) -> Row:
    state = request.state
    return {
        "campaign_id": state.campaign_id,
        "revision": request.revision,
        "version": state.version,
        "state": json_param(STATE, state),
        "updated_at": now,
    }


def _campaign_row(state: CampaignState, now: datetime) -> Row:
    rng = state.trading_range
    return {
        "id": state.id,
        "campaign_id": state.campaign_id,
        "symbol": state.symbol,
        "timeframe": state.timeframe,
        "trading_range_id": rng.id,
        "status": state.status.value,
        "phase": state.phase.value,
        "version": state.version,
        "total_allocation": state.total_allocation,
        "open_risk": state.open_risk,
        "reserved_risk": state.reserved_risk,
        "realized_pnl": state.realized_pnl,
        "creek": rng.creek,
        "ice": rng.ice,
        "jump": rng.jump,
        "spring_low": rng.spring_low,
        "last_price": state.last_price,
        "last_price_at": state.last_price_at,
        "invalidation_reason": state.invalidation_reason,
        "quarantine_reason": state.quarantine_reason,
        "created_at": state.created_at,
        "updated_at": state.updated_at or now,
        "closed_at": state.closed_at,
    }


def _exposure_row(exposure: Exposure, state: CampaignState, version: int) -> Row:
    return {
        "campaign_id": exposure.campaign_id,
        "symbol": exposure.symbol,
        "open_risk": exposure.open_risk,
        "reserved_risk": exposure.reserved_risk,
        "realized_pnl": state.realized_pnl,
        "unrealized_pnl": state.unrealized_pnl,
        "version": version,
        "updated_at": _now(),
    }


def _history_row(exposure: Exposure, request: PersistRequest) -> Row:
    """The campaign's exposure as this save leaves it, at the market time of the change (keyed
    by the save's revision: saves that book a fill or a price may keep the version)."""
    state = request.state
    return {
        "campaign_id": exposure.campaign_id,
        "revision": request.revision,
        "version": state.version,
        "occurred_at": state.market_time or state.created_at,
        "symbol": exposure.symbol,
        "open_risk": exposure.open_risk,
        "reserved_risk": exposure.reserved_risk,
        "realized_pnl": state.realized_pnl,
        "unrealized_pnl": state.unrealized_pnl,
    }


def _reserved_exposure_row(request: AdmissionRequest, admission: Admission) -> Row:
    """The campaign's exposure with the admitted risk reserved, provisional until its own
    snapshot at the version this entry gives it (``version + 1``) replaces it."""
    reserved = replace(
        request.exposure, reserved_risk=plus(request.reserved_risk, admission.risk_amount)
    )
    return {
        "campaign_id": reserved.campaign_id,
        "symbol": reserved.symbol,
        "open_risk": reserved.open_risk,
        "reserved_risk": reserved.reserved_risk,
        "realized_pnl": request.realized_pnl,
        "unrealized_pnl": NO_MONEY,  # a new row's; a stored row keeps its own (RESERVE_EXPOSURE)
        "version": request.version + 1,
        "updated_at": _now(),
    }


def _reservation_row(request: AdmissionRequest, admission: Admission) -> Row:
    return {
        "signal_id": request.signal_id,
        "campaign_id": request.campaign_id,
        "admission": json_param(ADMISSION, admission),
        "created_at": _now(),
    }


def _plan_row(plan: AllocationPlan) -> Row:
    return {
        "signal_id": plan.signal_id,
        "campaign_id": plan.campaign_id,
        "symbol": plan.symbol,
        "pattern": plan.pattern.value,
        "weight": plan.weight,
        "target_risk_pct": plan.target_risk_pct,
        "requested_risk_pct": plan.requested_risk_pct,
        "approved_risk_pct": plan.approved_risk_pct,
        "actual_risk_pct": plan.actual_risk_pct,
        "shares": plan.shares,
        "risk_amount": plan.risk_amount,
        "remaining_budget_pct": plan.remaining_budget_pct,
        "heat_after_pct": plan.heat_after_pct,
        "priority_score": plan.priority_score,
        "is_rebalanced": plan.is_rebalanced,
        "rebalance_reason": plan.rebalance_reason,
        "approved": plan.approved,
        "rejection_code": plan.rejection_code.value if plan.rejection_code else None,
        "rejection_reason": plan.rejection_reason,
        "decided_at": plan.decided_at,
        "policy_id": plan.policy_id,
    }


def _position_row(p: Position, version: int) -> Row:
    return {
        "id": p.id,
        "campaign_id": p.campaign_id,
        "signal_id": p.signal_id,
        "pattern": p.pattern.value,
        "symbol": p.symbol,
        "status": p.status.value,
        "entry_price": p.entry_price,
        "initial_stop": p.initial_stop,
        "stop": p.stop,
        "targets": json_param(_PRICES, p.targets),
        "targets_hit": p.targets_hit,
        "weight": p.weight,
        "risk_pct": p.risk_pct,
        "planned_shares": p.planned_shares,
        "shares": p.shares,
        "open_shares": p.open_shares,
        "realized_pnl": p.realized_pnl,
        "entry_cost": p.entry_cost,
        "approved_at": p.approved_at,
        "opened_at": p.opened_at,
        "closed_at": p.closed_at,
        "version": version,
    }


def _order_row(record: OrderRecord, version: int) -> Row:
    o = record.order
    return {
        "client_order_id": o.client_order_id,
        "campaign_id": o.campaign_id,
        "position_id": o.position_id,
        "symbol": o.symbol,
        "side": o.side.value,
        "order_type": o.order_type.value,
        "purpose": o.purpose.value,
        "quantity": o.quantity,
        "limit_price": o.limit_price,
        "expected_price": o.expected_price,
        "status": record.status.value,
        "filled_quantity": record.filled_quantity,
        "correlation_id": o.correlation_id,
        "created_at": o.created_at,
        "version": version,
    }
