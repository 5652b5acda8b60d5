"""/campaigns: the read model's campaigns (live where fresher), their positions, decisions
and audit trail, and the operator's commands."""

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from campaign_engine.api.auth import UNAUTHORIZED, Authorized
from campaign_engine.api.bounded import RETRY_AFTER, within_bound
from campaign_engine.api.schemas import (
    AllocationPlanOut,
    AllocationsOut,
    CampaignDetailOut,
    CampaignListOut,
    ErrorOut,
    EventOut,
    EventsOut,
    InvalidateIn,
    MetricsOut,
    PositionOut,
    PositionsOut,
    StatusChangeIn,
    StatusName,
    campaign_fields,
)
from campaign_engine.api.services import CampaignView, Services, ServicesDep
from campaign_engine.client.campaign_client import CampaignRefused
from campaign_engine.db.read_model import MAX_OFFSET, MAX_PAGE, CampaignOrder, CampaignRecord
from campaign_engine.domain.campaign.flat import ended_holding
from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.money import ZERO
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import SYMBOL_MAX_LENGTH, SYMBOL_QUERY_PATTERN
from campaign_engine.domain.vocabulary import PositionStatus

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

Responses = dict[int | str, dict[str, Any]]

CampaignId = Annotated[
    str,
    Path(min_length=1, max_length=64, examples=["AAPL-2024-10-15"], description="symbol-date"),
]
_NOT_FOUND: Responses = {
    HTTPStatus.NOT_FOUND.value: {"model": ErrorOut, "description": "no such campaign"}
}
_REFUSED: Responses = {
    HTTPStatus.NOT_FOUND.value: {"model": ErrorOut, "description": "no such campaign"},
    HTTPStatus.UNPROCESSABLE_ENTITY.value: {
        "description": "invalid input, or the campaign refused (already COMPLETED or "
        "INVALIDATED, or not a transition an operator may make)"
    },
    HTTPStatus.SERVICE_UNAVAILABLE.value: {
        "description": f"Temporal, the database or the worker is down (Retry-After: "
        f"{RETRY_AFTER}); a command already handed to the campaign still takes effect"
    },
    **UNAUTHORIZED,
}
_PENDING = (
    "The command was handed to the campaign and takes effect when that recovers: read the "
    "campaign to see it before sending it again."
)


def _metrics(view: CampaignView) -> MetricsOut:
    summary = summarize(view.positions, mark=view.campaign.last_price, equity=view.equity)
    return MetricsOut(**MetricsOut.fields_of(summary))


def campaign_detail(view: CampaignView) -> CampaignDetailOut:
    mark = view.campaign.last_price
    return CampaignDetailOut(
        **campaign_fields(view.campaign),
        source=view.source,
        positions=[PositionOut.of(p, mark) for p in view.positions],
        metrics=_metrics(view),
        awaiting_flat=ended_holding(
            status=view.campaign.status,
            closed_at=view.campaign.closed_at,
            positions=view.positions,
        ),
    )


async def _after_command(services: Services, state: CampaignState) -> CampaignDetailOut:
    """The campaign as the command left it (the workflow's answer is the freshest state)."""
    equity = await services.read_model.equity()
    return campaign_detail(
        CampaignView(
            campaign=CampaignRecord.from_state(state, equity),
            positions=state.positions,
            equity=equity,
            source="workflow",
            state=state,
        )
    )


def _symbol_query(description: str) -> Any:
    """The symbol's own rule as a client may spell it (any case), checked as the schema says:
    a query is matched as sent, so a symbol with anything around it is refused, not trimmed
    (a prefix of a symbol follows the same rule)."""
    return Query(
        min_length=1,
        max_length=SYMBOL_MAX_LENGTH,
        pattern=SYMBOL_QUERY_PATTERN,
        description=description,
    )


@router.get("", summary="List campaigns, marked to market, newest first or as sorted")
async def list_campaigns(
    services: ServicesDep,
    status: Annotated[
        StatusName | None,
        Query(description="ACTIVE, MARKUP, QUARANTINED, COMPLETED or INVALIDATED (any case)"),
    ] = None,
    symbol: Annotated[str | None, _symbol_query("e.g. AAPL (any case)")] = None,
    symbol_prefix: Annotated[
        str | None,
        _symbol_query("symbols that start with it, e.g. AA finds AAPL and AAL (any case)"),
    ] = None,
    sort: Annotated[
        CampaignOrder,
        Query(
            description="created, updated, pnl (total P&L marked to market), risk (open), "
            "committed or symbol; a leading - is descending. Ties go by campaign id, so a "
            "page is the same slice each time it is asked for"
        ),
    ] = CampaignOrder.NEWEST,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CampaignListOut:
    page = await services.read_model.list_campaigns(
        status=status,
        symbol=symbol,
        symbol_prefix=symbol_prefix,
        order=sort,
        limit=limit,
        offset=offset,
    )
    return CampaignListOut.of(page)


@router.get(
    "/{campaign_id}", summary="One campaign with its positions and metrics", responses=_NOT_FOUND
)
async def get_campaign(services: ServicesDep, campaign_id: CampaignId) -> CampaignDetailOut:
    return campaign_detail(await services.require_campaign(campaign_id))


@router.get(
    "/{campaign_id}/positions",
    summary="Positions with the SPEC section 6 aggregates",
    responses=_NOT_FOUND,
)
async def get_positions(
    services: ServicesDep,
    campaign_id: CampaignId,
    include_closed: Annotated[
        bool, Query(description="also list closed positions (aggregates always count them)")
    ] = False,
) -> PositionsOut:
    view = await services.require_campaign(campaign_id)
    mark = view.campaign.last_price
    shown = [
        PositionOut.of(p, mark)
        for p in view.positions
        if include_closed or p.status is not PositionStatus.CLOSED
    ]
    summary = summarize(view.positions, mark=mark, equity=view.equity)
    return PositionsOut(
        campaign_id=view.campaign.campaign_id,
        source=view.source,
        positions=shown,
        **MetricsOut.fields_of(summary),
    )


@router.get(
    "/{campaign_id}/allocations",
    summary="Every entry decision, in decision order",
    responses=_NOT_FOUND,
)
async def get_allocations(services: ServicesDep, campaign_id: CampaignId) -> AllocationsOut:
    view = await services.require_campaign(campaign_id)
    if view.state is not None:  # read with the live state, so that the totals agree
        plans = view.state.plans
    else:
        plans = await services.read_model.allocations(campaign_id)
    allocated = view.campaign.total_allocation
    budget = services.client.policy.campaign_max_risk_pct
    return AllocationsOut(
        campaign_id=view.campaign.campaign_id,
        allocations=AllocationPlanOut.many(plans),
        total_allocated=allocated,
        remaining_budget=max(ZERO, budget - allocated),
    )


@router.get("/{campaign_id}/events", summary="The audit trail, oldest first", responses=_NOT_FOUND)
async def get_events(services: ServicesDep, campaign_id: CampaignId) -> EventsOut:
    view = await services.require_campaign(campaign_id)
    events = await services.read_model.events(campaign_id)
    return EventsOut(campaign_id=view.campaign.campaign_id, events=EventOut.many(events))


@router.post(
    "/{campaign_id}/invalidate",
    summary="Invalidate the campaign: every open share exits at the last price",
    dependencies=Authorized,
    responses=_REFUSED,
)
async def invalidate_campaign(
    services: ServicesDep, campaign_id: CampaignId, body: InvalidateIn
) -> CampaignDetailOut:
    try:
        state = await within_bound(
            services, services.client.invalidate(campaign_id, body.reason), pending=_PENDING
        )
    except CampaignRefused as refusal:
        raise await services.refusal_error(campaign_id, refusal) from None
    return await _after_command(services, state)


@router.patch(
    "/{campaign_id}",
    summary="Change the status (ACTIVE -> MARKUP) at the current version",
    dependencies=Authorized,
    responses={
        **_REFUSED,
        HTTPStatus.CONFLICT.value: {"model": ErrorOut, "description": "version mismatch"},
    },
)
async def change_status(
    services: ServicesDep, campaign_id: CampaignId, body: StatusChangeIn
) -> CampaignDetailOut:
    try:
        state = await within_bound(
            services,
            services.client.change_status(campaign_id, body.status, body.version),
            pending=_PENDING,
        )
    except CampaignRefused as refusal:
        raise await services.refusal_error(campaign_id, refusal) from None
    return await _after_command(services, state)
