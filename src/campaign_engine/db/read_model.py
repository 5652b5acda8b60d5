"""What the REST API and the CLI read: campaigns, their positions, decisions and events, and the
portfolio, from the PostgreSQL read model the workflows write. Nothing here writes.

Figures that depend on equity (current risk, heat) use the portfolio's equity, starting equity
plus realized P&L, as the entry decisions do (SPEC section 3 rule 10). The records it answers
with are in ``records`` and ``portfolio_snapshot``."""

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
from campaign_engine.domain.limits import Exposure
from campaign_engine.domain.money import ZERO, plus
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.types import MoneyValue, normalise_symbol
from campaign_engine.domain.vocabulary import CampaignStatus

__all__ = [  # the records are read from here too
    "MAX_OFFSET",
    "MAX_PAGE",
    "CampaignPage",
    "CampaignRecord",
    "CampaignRisk",
    "CampaignWithPositions",
    "EventRecord",
    "GroupRisk",
    "PortfolioSnapshot",
    "ReadModel",
]

MAX_PAGE = 100
# Far beyond any real listing, and well inside PostgreSQL's bigint: a larger offset is bad
# input, not a question for the database.
MAX_OFFSET = 1_000_000_000

# Campaigns carrying risk now, open or reserved.
# Unrealized P&L of every campaign, the trading record (``db.trading_state``) and its time.
_TRADING = text(
    "SELECT COALESCE((SELECT sum(unrealized_pnl) FROM campaign_exposure), 0),"
    " trading_state, trading_state_reason, equity_peak, market_day, day_open_equity,"
    " last_equity, trading_state_at FROM portfolio WHERE id = 1"
)
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
            return (await self._equity(conn))[2]

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
        limit: int = 50,
        offset: int = 0,
    ) -> CampaignPage:
        """Campaigns newest first, filtered by status and symbol (upper-cased)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        if not 0 <= offset <= MAX_OFFSET:
            raise ValueError(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
        conditions = []
        if status is not None:
            conditions.append(campaigns.c.status == status.value)
        if symbol is not None:
            conditions.append(campaigns.c.symbol == normalise_symbol(symbol))
        page: Select[Any] = (
            select(campaigns)
            .where(*conditions)
            .order_by(campaigns.c.created_at.desc(), campaigns.c.campaign_id)
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(campaigns).where(*conditions)
        async with self.engine.connect() as conn:
            equity = (await self._equity(conn))[2]
            rows = (await conn.execute(page)).all()
            total = (await conn.execute(count)).scalar_one()
        return CampaignPage(
            [CampaignRecord.from_row(r, equity) for r in rows],
            total_count=int(total),
            limit=limit,
            offset=offset,
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

    async def portfolio(self, policy: Policy) -> PortfolioSnapshot:
        """Equity, heat and where the risk sits, by campaign and by correlation group of
        ``policy`` (the one the campaigns are decided with)."""
        async with self.engine.connect() as conn:
            starting, realized, _ = await self._equity(conn)
            rows = (await conn.execute(_EXPOSED)).all()
            trading = (await conn.execute(_TRADING)).one()
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
            unrealized_pnl=MoneyValue(Decimal(trading[0])),
            trading=record_of(tuple(trading[1:-1])),
            trading_state_at=trading[-1],
        )
