"""What the REST API and the CLI read: campaigns, their positions, decisions and events, and the
portfolio, from the PostgreSQL read model the workflows write. Nothing here writes.

Figures that depend on equity (current risk, heat) use the portfolio's equity, starting equity
plus realized P&L, as the entry decisions do (SPEC section 3 rule 10). The records it answers
with are in ``records`` and ``portfolio_snapshot``."""

from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from campaign_engine.db.book_history import BookHistory, book_changes
from campaign_engine.db.campaign_listing import (
    MAX_OFFSET,
    MAX_PAGE,
    CampaignFilter,
    CampaignOrder,
    MarkedPage,
    campaign_page,
)
from campaign_engine.db.marks import holding_marks, newest_quotes, positions_of
from campaign_engine.db.portfolio_snapshot import (
    CampaignRisk,
    GroupRisk,
    PortfolioSnapshot,
    portfolio_snapshot,
)
from campaign_engine.db.records import (
    CampaignPage,
    CampaignRecord,
    CampaignWithPositions,
    EventRecord,
    plan_from_row,
    position_from_row,
)
from campaign_engine.db.repository import PortfolioNotInitialised
from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaigns,
    portfolio,
    positions,
)
from campaign_engine.db.trading_state import record_of
from campaign_engine.domain.book_history import book_points, realized_by_day
from campaign_engine.domain.limits import Exposure
from campaign_engine.domain.marks import Quote
from campaign_engine.domain.money import ZERO, plus, total
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import CampaignStatus

__all__ = [  # the records are read from here too
    "MAX_OFFSET",
    "MAX_PAGE",
    "CampaignOrder",
    "CampaignPage",
    "CampaignRecord",
    "CampaignRisk",
    "CampaignWithPositions",
    "EventRecord",
    "GroupRisk",
    "MarkedPage",
    "PortfolioSnapshot",
    "ReadModel",
]

# The trading record (``db.trading_state``) and its time.
_TRADING = text(
    "SELECT trading_state, trading_state_reason, equity_peak, market_day, day_open_equity,"
    " last_equity, trading_state_at FROM portfolio WHERE id = 1"
)
# Campaigns carrying risk now, open or reserved.
_EXPOSED = (
    select(
        campaign_exposure.c.campaign_id,
        campaign_exposure.c.symbol,
        campaign_exposure.c.open_risk,
        campaign_exposure.c.reserved_risk,
    )
    .where(campaign_exposure.c.open_risk + campaign_exposure.c.reserved_risk > 0)
    .order_by(campaign_exposure.c.campaign_id)
)


class ReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def equity(self) -> MoneyValue:
        async with self.engine.connect() as conn:
            return await self.equity_on(conn)

    @classmethod
    async def equity_on(cls, conn: AsyncConnection) -> MoneyValue:
        """Equity, read on ``conn`` (with what else is read there)."""
        return (await cls._equity(conn))[2]

    @staticmethod
    async def _equity(conn: AsyncConnection) -> tuple[MoneyValue, MoneyValue, MoneyValue]:
        """(starting equity, realized P&L of every campaign, equity)."""
        realized = select(func.coalesce(func.sum(campaign_exposure.c.realized_pnl), ZERO))
        row = (
            await conn.execute(
                select(portfolio.c.starting_equity, realized.scalar_subquery()).where(
                    portfolio.c.id == 1
                )
            )
        ).first()
        if row is None:
            raise PortfolioNotInitialised("no portfolio row: run the migrations first")
        starting, pnl = MoneyValue(Decimal(row[0])), MoneyValue(Decimal(row[1]))
        return starting, pnl, plus(starting, pnl)

    # --- campaigns ----------------------------------------------------------------------

    async def list_campaigns(
        self,
        *,
        status: CampaignStatus | None = None,
        symbol: str | None = None,
        symbol_prefix: str | None = None,
        order: CampaignOrder = CampaignOrder.NEWEST,
        limit: int = 50,
        offset: int = 0,
    ) -> MarkedPage:
        """A page of campaigns (``db.campaign_listing``), newest first unless ``order`` says
        otherwise, each marked to market."""
        where = CampaignFilter(status=status, symbol=symbol, symbol_prefix=symbol_prefix)
        async with self.engine.connect() as conn:
            equity = (await self._equity(conn))[2]
            return await campaign_page(
                conn, equity, where=where, order=order, limit=limit, offset=offset
            )

    async def campaign(self, campaign_id: str) -> CampaignRecord | None:
        found = await self.campaign_with_positions(campaign_id)
        return None if found is None else found.campaign

    async def campaign_with_positions(self, campaign_id: str) -> CampaignWithPositions | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
            ).first()
            if row is None:
                return None
            equity = (await self._equity(conn))[2]
            held = (
                await conn.execute(
                    select(positions)
                    .where(positions.c.campaign_id == campaign_id)
                    .order_by(positions.c.approved_at, positions.c.id)
                )
            ).all()
        return CampaignWithPositions(
            campaign=CampaignRecord.from_row(row, equity),
            positions=tuple(position_from_row(p) for p in held),
            equity=equity,
        )

    async def campaigns_with_positions(
        self, campaign_ids: Collection[str]
    ) -> dict[str, tuple[CampaignWithPositions, Quote | None]]:
        """Several campaigns at once (those the read model holds), each with its symbol's
        newest accepted price: what the live stream shows of a batch of events."""
        if not campaign_ids:
            return {}
        wanted = sorted(set(campaign_ids))
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(campaigns).where(campaigns.c.campaign_id.in_(wanted)))
            ).all()
            equity = (await self._equity(conn))[2]
            held = await positions_of(conn, wanted)
            quotes = await newest_quotes(conn, {r.symbol for r in rows})
        return {
            r.campaign_id: (
                CampaignWithPositions(
                    campaign=CampaignRecord.from_row(r, equity),
                    positions=held.get(r.campaign_id, ()),
                    equity=equity,
                ),
                quotes.get(r.symbol),
            )
            for r in rows
        }

    async def allocations(self, campaign_id: str) -> tuple[AllocationPlan, ...]:
        """Every decision for the campaign id, approved or not, in the order it was made."""
        query = (
            select(allocation_plans)
            .where(allocation_plans.c.campaign_id == campaign_id)
            .order_by(allocation_plans.c.seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(plan_from_row(r) for r in rows)

    async def events(self, campaign_id: str) -> tuple[EventRecord, ...]:
        """The campaign's audit trail, oldest first."""
        query = (
            select(audit_trail)
            .where(audit_trail.c.campaign_id == campaign_id)
            .order_by(audit_trail.c.seq)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return tuple(EventRecord.from_row(r) for r in rows)

    # --- the portfolio ------------------------------------------------------------------

    async def book_history(self) -> BookHistory:
        """The book after each change and its realized P&L by market day
        (``domain.book_history``)."""
        async with self.engine.connect() as conn:
            starting = (await self._equity(conn))[0]
            changes = await book_changes(conn)
        return BookHistory(starting, book_points(starting, changes), realized_by_day(changes))

    async def portfolio(self, policy: Policy) -> PortfolioSnapshot:
        """Equity, heat and where the risk sits, by campaign and by correlation group of
        ``policy`` (the one the campaigns are decided with)."""
        async with self.engine.connect() as conn:
            starting, realized, equity = await self._equity(conn)
            rows = (await conn.execute(_EXPOSED)).all()
            trading = (await conn.execute(_TRADING)).one()
            # Marked at the newest accepted prices: the read model's own unrealized P&L
            # stands still while prices cross no level.
            marks = await holding_marks(conn, equity)
        exposures = (
            Exposure(
                campaign_id=r.campaign_id,
                symbol=r.symbol,
                open_risk=r.open_risk,
                reserved_risk=r.reserved_risk,
            )
            for r in rows
        )
        return portfolio_snapshot(
            starting,
            realized,
            exposures,
            policy,
            unrealized_pnl=total(m.unrealized_pnl for m in marks.values()),
            trading=record_of(tuple(trading[:-1])),
            trading_state_at=trading[-1],
        )
