"""What the REST API answers and accepts (SPEC section 8): pydantic models, so that /docs shows
real schemas. Money, prices, shares and percentages are JSON strings, never floats; times are
UTC ISO-8601 (``encoding``). The models live by endpoint family; every name is importable from
here."""

from campaign_engine.api.schemas.campaigns import (
    CampaignDetailOut,
    CampaignListOut,
    CampaignOut,
    CampaignRowOut,
    MarkOut,
    MetricsOut,
    PaginationOut,
    PositionOut,
    PositionsOut,
    Source,
    campaign_fields,
)
from campaign_engine.api.schemas.decisions import (
    AllocationPlanOut,
    AllocationsOut,
    EventOut,
    EventsOut,
)
from campaign_engine.api.schemas.encoding import (
    DecimalStr,
    ErrorOut,
    UtcTime,
    decimal_text,
    utc_text,
)
from campaign_engine.api.schemas.portfolio import (
    CampaignRiskOut,
    GroupRiskOut,
    HealthOut,
    PolicyOut,
    PortfolioHistoryOut,
    PortfolioOut,
    TradingStateIn,
    TradingStateOut,
)
from campaign_engine.api.schemas.requests import (
    BRANCH_TAGS,
    MANY_PRICES,
    ONE_PRICE,
    InvalidateIn,
    PricesAcceptedOut,
    PricesIn,
    StatusChangeIn,
    StatusName,
)

__all__ = [
    "BRANCH_TAGS",
    "MANY_PRICES",
    "ONE_PRICE",
    "AllocationPlanOut",
    "AllocationsOut",
    "CampaignDetailOut",
    "CampaignListOut",
    "CampaignOut",
    "CampaignRiskOut",
    "CampaignRowOut",
    "DecimalStr",
    "ErrorOut",
    "EventOut",
    "EventsOut",
    "GroupRiskOut",
    "HealthOut",
    "InvalidateIn",
    "MarkOut",
    "MetricsOut",
    "PaginationOut",
    "PolicyOut",
    "PortfolioHistoryOut",
    "PortfolioOut",
    "PositionOut",
    "PositionsOut",
    "PricesAcceptedOut",
    "PricesIn",
    "Source",
    "StatusChangeIn",
    "StatusName",
    "TradingStateIn",
    "TradingStateOut",
    "UtcTime",
    "campaign_fields",
    "decimal_text",
    "utc_text",
]
