"""Validated scalar types used at every boundary: prices, percentages, UTC times, symbols."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


Price = Annotated[Decimal, AfterValidator(_finite), Field(gt=0)]
"""A strictly positive, finite price."""

Quantity = Annotated[Decimal, AfterValidator(_finite), Field(ge=0)]
"""A non-negative number of shares (fractional when the policy's quantity step allows)."""

Money = Annotated[Decimal, AfterValidator(_finite)]
"""A finite amount of account currency; may be negative (a loss)."""

Percent = Annotated[Decimal, AfterValidator(_finite), Field(ge=0, le=100)]
"""A percentage between 0 and 100 (of equity, or a confidence)."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A timezone-aware instant, normalised to UTC; naive datetimes are refused."""


def _normalise_symbol(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Symbol = Annotated[
    str,
    BeforeValidator(_normalise_symbol),
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9._/:-]*$"),
]
"""An instrument symbol, upper-cased: ``AAPL``, ``BRK.B``, ``BTC/USD``."""

Timeframe = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
