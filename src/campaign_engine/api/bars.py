"""/campaigns/{id}/bars: the prices of a campaign's symbol, for its chart."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from campaign_engine.api.campaigns import CampaignId
from campaign_engine.api.schemas.encoding import DecimalStr, UtcTime
from campaign_engine.api.services import ServicesDep
from campaign_engine.db.price_bars import MAX_BARS, PriceBar, PriceBars

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


class BarOut(BaseModel):
    as_of: UtcTime
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr

    @classmethod
    def of(cls, bar: PriceBar) -> "BarOut":
        return cls(as_of=bar.as_of, open=bar.open, high=bar.high, low=bar.low, close=bar.close)


class BarsOut(BaseModel):
    campaign_id: str
    symbol: str
    bars: list[BarOut] = Field(description="oldest first; a tick is a bar of one price")


@router.get(
    "/{campaign_id}/bars",
    summary="The newest prices of the campaign's symbol up to its close, for a chart",
    description="Prices as POST /prices accepted them (ticks and bars, not merged), the "
    "newest `limit` of them until the campaign closed (or now), oldest first.",
    responses={404: {"description": "no such campaign"}},
)
async def get_bars(
    services: ServicesDep,
    campaign_id: CampaignId,
    limit: Annotated[int, Query(ge=1, le=MAX_BARS)] = 400,
) -> BarsOut:
    view = await services.require_campaign(campaign_id)
    record = view.campaign
    bars = await PriceBars(services.engine).last(record.symbol, until=record.closed_at, limit=limit)
    return BarsOut(
        campaign_id=record.campaign_id, symbol=record.symbol, bars=[BarOut.of(b) for b in bars]
    )
