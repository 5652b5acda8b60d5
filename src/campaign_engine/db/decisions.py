"""Every entry decision, across campaigns: the ones that made a campaign and the ones refused
before any existed (a refused first entry leaves no campaign, only its plan and its event)."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.records import plan_from_row
from campaign_engine.db.schema import allocation_plans
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.vocabulary import RejectionCode


@dataclass(frozen=True, slots=True)
class DecisionPage:
    plans: tuple[AllocationPlan, ...]  # newest first
    total: int  # every decision the filters match


async def list_decisions(
    engine: AsyncEngine,
    *,
    approved: bool | None = None,
    code: RejectionCode | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DecisionPage:
    """Newest decision first (the order they were recorded in, reversed)."""
    matching = select(allocation_plans)
    if approved is not None:
        matching = matching.where(allocation_plans.c.approved.is_(approved))
    if code is not None:
        matching = matching.where(allocation_plans.c.rejection_code == code.value)
    page = matching.order_by(allocation_plans.c.seq.desc()).limit(limit).offset(offset)
    counted = select(func.count()).select_from(matching.subquery())
    async with engine.connect() as conn:
        rows = (await conn.execute(page)).all()
        total = (await conn.execute(counted)).scalar_one()
    return DecisionPage(tuple(plan_from_row(r) for r in rows), int(total))
