"""Reads and writes of campaign data. Every write is idempotent: a retried write changes
nothing, and a stale snapshot never overwrites a newer one."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaign_snapshots,
    campaigns,
    orders,
    portfolio,
    positions,
    risk_reservations,
)
from campaign_engine.domain.campaign import exposure_of
from campaign_engine.domain.entry import Admission, admit_entry
from campaign_engine.domain.events import CampaignEvent
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.money import ZERO
from campaign_engine.domain.orders import OrderRecord
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.messages import PersistRequest, ReserveRiskRequest

STATE = TypeAdapter(CampaignState)
ADMISSION = TypeAdapter(Admission)


class PortfolioNotInitialised(RuntimeError):
    """The portfolio row is missing: run the migrations and ``ensure_portfolio`` first."""


def _now() -> datetime:
    return datetime.now(UTC)


class CampaignRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

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
            row = (
                await conn.execute(
                    select(campaign_snapshots.c.state, campaign_snapshots.c.revision).where(
                        campaign_snapshots.c.campaign_id == campaign_id
                    )
                )
            ).first()
        if row is None:
            return None, 0
        return STATE.validate_python(row.state), int(row.revision)

    async def save(self, request: PersistRequest) -> None:
        """Persist a snapshot with the events of its change, in one transaction."""
        state, now = request.state, _now()
        async with self.engine.begin() as conn:
            snapshot = insert(campaign_snapshots).values(
                campaign_id=state.campaign_id,
                revision=request.revision,
                version=state.version,
                state=STATE.dump_python(state, mode="json"),
                updated_at=now,
            )
            await conn.execute(
                snapshot.on_conflict_do_update(
                    index_elements=[campaign_snapshots.c.campaign_id],
                    set_={
                        c: snapshot.excluded[c]
                        for c in ("revision", "version", "state", "updated_at")
                    },
                    where=campaign_snapshots.c.revision < snapshot.excluded.revision,
                )
            )
            if state.exists:
                await self._save_campaign(conn, state, now)
            if state.plans:
                await conn.execute(
                    insert(allocation_plans)
                    .values([_plan_row(p) for p in state.plans])
                    .on_conflict_do_nothing(index_elements=[allocation_plans.c.signal_id])
                )
            if request.events:
                await conn.execute(
                    insert(audit_trail)
                    .values([_event_row(e) for e in request.events])
                    .on_conflict_do_nothing(index_elements=[audit_trail.c.event_id])
                )

    async def _save_campaign(
        self, conn: AsyncConnection, state: CampaignState, now: datetime
    ) -> None:
        rng = state.trading_range
        row = insert(campaigns).values(
            id=state.id,
            campaign_id=state.campaign_id,
            symbol=state.symbol,
            timeframe=state.timeframe,
            trading_range_id=rng.id,
            status=state.status.value,
            phase=state.phase.value,
            version=state.version,
            total_allocation=state.total_allocation,
            open_risk=state.open_risk,
            reserved_risk=state.reserved_risk,
            realized_pnl=state.realized_pnl,
            creek=rng.creek,
            ice=rng.ice,
            jump=rng.jump,
            spring_low=rng.spring_low,
            last_price=state.last_price,
            last_price_at=state.last_price_at,
            invalidation_reason=state.invalidation_reason,
            created_at=state.created_at,
            updated_at=state.updated_at or now,
            closed_at=state.closed_at,
        )
        await conn.execute(_guarded_upsert(row, campaigns.c.campaign_id, campaigns.c.version))
        if state.positions:
            rows = insert(positions).values(
                [_position_row(p, state.version) for p in state.positions]
            )
            await conn.execute(_guarded_upsert(rows, positions.c.id, positions.c.version))
        if state.orders:
            rows = insert(orders).values([_order_row(r, state.version) for r in state.orders])
            await conn.execute(_guarded_upsert(rows, orders.c.client_order_id, orders.c.version))
        await self._write_exposure(conn, exposure_of(state), state.realized_pnl, state.version)

    async def _write_exposure(
        self, conn: AsyncConnection, exposure: Exposure, realized: Decimal, version: int
    ) -> None:
        row = insert(campaign_exposure).values(
            campaign_id=exposure.campaign_id,
            symbol=exposure.symbol,
            open_risk=exposure.open_risk,
            reserved_risk=exposure.reserved_risk,
            realized_pnl=realized,
            version=version,
            updated_at=_now(),
        )
        # <= rather than <: the campaign's own snapshot at the version of a reservation
        # replaces that reservation's provisional figures.
        await conn.execute(
            row.on_conflict_do_update(
                index_elements=[campaign_exposure.c.campaign_id],
                set_={
                    c.name: row.excluded[c.name]
                    for c in campaign_exposure.c
                    if c.name != "campaign_id"
                },
                where=campaign_exposure.c.version <= row.excluded.version,
            )
        )

    # --- the portfolio ------------------------------------------------------------------

    async def reserve(self, request: ReserveRiskRequest) -> Admission:
        """Admit an entry against every campaign's risk and reserve it, atomically.

        The portfolio row is locked for the transaction, so concurrent entries from any number
        of campaigns are decided one after the other, each seeing the risk the one before it
        reserved. The answer is stored by signal id: asking again returns the same answer.
        """
        async with self.engine.begin() as conn:
            # One round trip: lock the portfolio, and find an earlier answer to this signal.
            head = (
                await conn.execute(
                    select(portfolio.c.starting_equity, risk_reservations.c.admission)
                    .select_from(
                        portfolio.outerjoin(
                            risk_reservations,
                            risk_reservations.c.signal_id == request.signal_id,
                        )
                    )
                    .where(portfolio.c.id == 1)
                    .with_for_update(of=portfolio)
                )
            ).first()
            if head is None:
                raise PortfolioNotInitialised("no portfolio row: run the migrations first")
            if head.admission is not None:
                return ADMISSION.validate_python(head.admission)
            # Every other campaign's risk, summed per symbol by the database.
            by_symbol = (
                await conn.execute(
                    select(
                        campaign_exposure.c.symbol,
                        func.sum(campaign_exposure.c.open_risk + campaign_exposure.c.reserved_risk),
                        func.sum(campaign_exposure.c.realized_pnl),
                    )
                    .where(campaign_exposure.c.campaign_id != request.campaign_id)
                    .group_by(campaign_exposure.c.symbol)
                )
            ).all()
            mine = Exposure(
                campaign_id=request.campaign_id,
                symbol=request.symbol,
                open_risk=request.open_risk,
                reserved_risk=request.reserved_risk,
            )
            realized = sum((r[2] for r in by_symbol), ZERO) + request.realized_pnl
            others = (
                Exposure(campaign_id=f"others:{r[0]}", symbol=r[0], open_risk=r[1])
                for r in by_symbol
            )
            view = PortfolioView(equity=head.starting_equity + realized, exposures=(*others, mine))
            admission = admit_entry(
                view,
                request.symbol,
                request.risk_pct,
                request.entry_price,
                request.stop_loss,
                request.policy,
            )
            if admission.approved:
                reserved = Exposure(
                    campaign_id=mine.campaign_id,
                    symbol=mine.symbol,
                    open_risk=mine.open_risk,
                    reserved_risk=mine.reserved_risk + admission.risk_amount,
                )
                await self._write_exposure(
                    conn, reserved, request.realized_pnl, request.version + 1
                )
            await conn.execute(
                insert(risk_reservations)
                .values(
                    signal_id=request.signal_id,
                    campaign_id=request.campaign_id,
                    admission=ADMISSION.dump_python(admission, mode="json"),
                    created_at=_now(),
                )
                .on_conflict_do_nothing(index_elements=[risk_reservations.c.signal_id])
            )
            return admission


def _guarded_upsert(stmt: Any, key: Any, version: Any) -> Any:
    """Insert, or update only if the incoming row is newer: a stale write changes nothing."""
    table = key.table
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key.name},
        where=version < stmt.excluded[version.name],
    )


def _plan_row(plan: AllocationPlan) -> dict[str, Any]:
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
    }


def _position_row(p: Position, version: int) -> dict[str, Any]:
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
        "targets": [str(t) for t in p.targets],
        "targets_hit": p.targets_hit,
        "weight": p.weight,
        "risk_pct": p.risk_pct,
        "planned_shares": p.planned_shares,
        "shares": p.shares,
        "open_shares": p.open_shares,
        "realized_pnl": p.realized_pnl,
        "approved_at": p.approved_at,
        "opened_at": p.opened_at,
        "closed_at": p.closed_at,
        "version": version,
    }


def _order_row(record: OrderRecord, version: int) -> dict[str, Any]:
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


def _event_row(event: CampaignEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "campaign_id": event.campaign_id,
        "event_type": event.type.value,
        "version": event.version,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "data": event.data,
    }
