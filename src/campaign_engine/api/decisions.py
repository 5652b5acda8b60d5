"""/decisions: every entry decision across campaigns, refusals of entries that never made a
campaign included (``GET /campaigns/{id}/allocations`` has a campaign's own)."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from campaign_engine.api.schemas import AllocationPlanOut
from campaign_engine.api.schemas.campaigns import PaginationOut
from campaign_engine.api.services import ServicesDep
from campaign_engine.db.decisions import list_decisions
from campaign_engine.db.read_model import MAX_OFFSET, MAX_PAGE
from campaign_engine.domain.vocabulary import RejectionCode

router = APIRouter(prefix="/decisions", tags=["campaigns"])


class DecisionsOut(BaseModel):
    data: list[AllocationPlanOut]
    pagination: PaginationOut


@router.get("", summary="Entry decisions, newest first: approved, refused, or by refusal code")
async def get_decisions(
    services: ServicesDep,
    approved: Annotated[bool | None, Query(description="true: approved, false: refused")] = None,
    code: Annotated[RejectionCode | None, Query(description="refusals with this code")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DecisionsOut:
    page = await list_decisions(
        services.engine, approved=approved, code=code, limit=limit, offset=offset
    )
    return DecisionsOut(
        data=AllocationPlanOut.many(page.plans),
        pagination=PaginationOut(
            returned_count=len(page.plans),
            total_count=page.total,
            limit=limit,
            offset=offset,
            has_more=offset + len(page.plans) < page.total,
        ),
    )
