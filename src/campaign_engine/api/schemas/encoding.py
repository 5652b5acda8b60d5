"""How answers write what JSON has no exact type for: money, prices, shares and percentages as
strings (never floats), times as UTC ISO-8601; shared by every schema."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


def decimal_text(value: Decimal) -> str:
    """A Decimal as JSON text: plain notation, no trailing fractional zeros, so the same
    amount reads the same whether it comes from the database (8 places) or a workflow:
    ``Decimal("499.50000000")`` -> ``"499.5"``, ``Decimal("1E+2")`` -> ``"100"``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def utc_text(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``: ``2024-10-15T14:30:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


DecimalStr = Annotated[
    Decimal,
    PlainSerializer(decimal_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal"}),
]
UtcTime = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2024-10-15T14:30:00Z"]}),
]

FROM_ATTRIBUTES = ConfigDict(from_attributes=True)  # answers built from records


class ErrorOut(BaseModel):
    detail: str = Field(examples=["there is no campaign AAPL-2024-10-15"])
