"""What the API accepts: operator commands and price updates (one or an array), and the
answer to the prices."""

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
)

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.types import Text, Version
from campaign_engine.domain.vocabulary import CampaignStatus


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


StatusName = Annotated[CampaignStatus, BeforeValidator(_upper)]
"""A campaign status, case-insensitive (``active`` is ACTIVE)."""


class StatusChangeIn(BaseModel):
    """An operator's status change at the campaign's current version."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "MARKUP", "version": 2}]}
    )

    status: StatusName
    version: Annotated[Version, Field(description="the campaign's current version")]


class InvalidateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "range broken"}]}
    )

    reason: Text


# One update or an array: the shape picks the branch, so an error names only the fields of
# the shape that was sent. The tags appear in error locations; the error handler drops them.
ONE_PRICE = "__one__"
MANY_PRICES = "__many__"
BRANCH_TAGS = frozenset({ONE_PRICE, MANY_PRICES})


def _price_shape(value: Any) -> str:
    return MANY_PRICES if isinstance(value, list) else ONE_PRICE


PricesIn = Annotated[
    Annotated[PriceUpdate, Tag(ONE_PRICE)]
    | Annotated[list[PriceUpdate], Field(max_length=10_000), Tag(MANY_PRICES)],
    Discriminator(_price_shape),
]


class PricesAcceptedOut(BaseModel):
    accepted: int = Field(description="updates taken for publishing to the open campaigns")
    too_old: int = Field(
        default=0,
        description="of those, updates no campaign can use: not newer than a bar their symbol "
        "has already sent (counted and logged, not published)",
    )
    held: int = Field(
        default=0,
        description="of those, updates held back as bad prints (SPEC section 11): further from "
        "their symbol's last accepted price than the policy's bad_print_band_pct. Not "
        "published until the next update confirms them or an operator releases them "
        "(GET /prices/held)",
    )
