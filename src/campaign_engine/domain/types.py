"""Scalar types: what a number is (a price, money, a percentage, shares), validated where it
crosses a boundary; UTC times; symbols.

Each kind of number is a ``NewType`` over ``Decimal`` (``PriceValue``, ``MoneyValue``,
``PercentValue``, ``QuantityValue``), so mypy tells a price from money, a percentage or a number
of shares, while at run time every one of them is a plain ``Decimal``: exact, and validated and
serialised by pydantic exactly as a ``Decimal``. The names without ``Value`` (``Price``,
``Money``, ``Percent``, ``Quantity``) are the same kinds with the range a boundary accepts.
Arithmetic that makes a new number of a kind lives in ``campaign_engine.domain.money``.
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, NewType

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59: UTC is past year 9999
        raise ValueError("out of range") from None


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


PriceValue = NewType("PriceValue", Decimal)
"""Account currency per share: a price, or a distance between prices (risk per share)."""

MoneyValue = NewType("MoneyValue", Decimal)
"""An amount of account currency: equity, risk, P&L."""

PercentValue = NewType("PercentValue", Decimal)
"""A percentage (of equity, or a confidence): 0.5 is half a percent."""

QuantityValue = NewType("QuantityValue", Decimal)
"""A number of shares (fractional when the policy's quantity step allows)."""

Price = Annotated[PriceValue, AfterValidator(_finite), Field(gt=0)]
"""A strictly positive, finite price."""

Quantity = Annotated[QuantityValue, AfterValidator(_finite), Field(ge=0)]
"""A non-negative number of shares."""

QuantityStep = Annotated[QuantityValue, AfterValidator(_finite), Field(gt=0)]
"""The smallest number of shares traded: 1, or 0.0001 for crypto and FX."""

Money = Annotated[MoneyValue, AfterValidator(_finite)]
"""A finite amount of account currency; may be negative (a loss)."""

Equity = Annotated[MoneyValue, AfterValidator(_finite), Field(gt=0)]
"""A strictly positive, finite amount of account currency: the account's equity."""

Percent = Annotated[PercentValue, AfterValidator(_finite), Field(ge=0, le=100)]
"""A percentage between 0 and 100 (of equity, or a confidence)."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A timezone-aware instant, normalised to UTC; naive datetimes are refused."""


def _normalise_symbol(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9._/:-]*$"
SYMBOL_QUERY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:-]*$"
"""A symbol as a query may spell it: any case (it is upper-cased), nothing around it."""
SYMBOL_MAX_LENGTH = 32
Symbol = Annotated[
    str,
    BeforeValidator(_normalise_symbol),
    StringConstraints(min_length=1, max_length=SYMBOL_MAX_LENGTH, pattern=SYMBOL_PATTERN),
    # What a client may send: the pattern in any case (the schema describes the input).
    Field(json_schema_extra={"pattern": SYMBOL_QUERY_PATTERN}),
]
"""An instrument symbol, upper-cased: ``AAPL``, ``BRK.B``, ``BTC/USD``."""

TIMEFRAME_PATTERN = r"^[1-9][0-9]{0,3}([sS]|[mM]|[mM][iI][nN]|[hH]|[dD]|[wW])$"
Timeframe = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=2, max_length=16, pattern=TIMEFRAME_PATTERN
    ),
]
"""A bar's length: a count and a unit (``1d``, ``4h``, ``15m``, ``30s``, ``1w``). It is what
market time counts in, e.g. an entry order's expiry in bars."""
