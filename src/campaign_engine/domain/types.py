"""Scalar types: what a number is (a price, money, a percentage, shares), validated where it
crosses a boundary; UTC times; symbols; text.

Each kind of number is a ``NewType`` over ``Decimal`` (``PriceValue``, ``MoneyValue``,
``PercentValue``, ``QuantityValue``), so mypy tells a price from money, a percentage or a number
of shares, while at run time every one of them is a plain ``Decimal``: exact, and validated and
serialised by pydantic exactly as a ``Decimal``. Arithmetic that makes a new number of a kind
lives in ``campaign_engine.domain.money``.

**The value domain** (SPEC section 11) is defined here, once, and nowhere else: the database
columns (``db/schema/columns.py``), the API's schemas and OpenAPI document, the client, the CLI
files and the workflow's payloads all take their bounds from these constants. Two widths exist for
each kind of number, and the gap between them is deliberate:

- what an **edge accepts** (``InputPrice``, ``MarketTime``, ``Text``, ``Equity``...): the
  values a client may send. A value outside is refused there, with a message naming it.
- what **every layer holds** (``Price``, ``Money``, ``Quantity``, ``UtcDatetime``): the range
  of the columns. It is wider than what the edge accepts, so that every value the rules derive
  from accepted ones still fits: targets up to ``ice + 2M`` (under twice the highest accepted
  price), P&L of the largest position at the highest price, an entry's expiry 10,000 bars of
  the longest bar after the latest accepted time. A held type is never narrowed to an edge's
  width: a campaign's own state, carried across continue-as-new, must always parse again.
"""

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Final, NewType

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

# --- the bounds ------------------------------------------------------------------------------

PRICE_PLACES: Final = 8
"""Decimal places a price, a share count, money and a percentage are stored with."""
PRICE_DIGITS: Final = 18  # NUMERIC(18, 8): below 10^10
MAX_PRICE: Final = Decimal(10) ** 9
"""The highest price an edge accepts: a tenth of what a column holds, so derived levels fit."""
QUANTITY_DIGITS: Final = 24  # NUMERIC(24, 8): below 10^16
MAX_SHARES: Final = Decimal(10) ** 12
"""The most shares one position may hold: sizing refuses a larger one (POSITION_TOO_LARGE)."""
MONEY_DIGITS: Final = 38  # NUMERIC(38, 8): below 10^30, the P&L of MAX_SHARES at MAX_PRICE
MAX_EQUITY: Final = Decimal(10) ** 15
"""The largest account equity a policy or setting may give."""
PERCENT_DIGITS: Final = 16  # NUMERIC(16, 8): below 10^8
MAX_R_MULTIPLE: Final = Decimal(1000)
EARLIEST_TIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_TIME: Final = datetime(2200, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_BAR: Final = timedelta(days=31)
"""The longest bar a timeframe may name (``4w``, ``31d``): 10,000 of them after LATEST_TIME
still fit a ``datetime``."""
MAX_TEXT_LENGTH: Final = 500
MAX_SEQUENCE: Final = 2**63 - 1  # BIGINT
MAX_VERSION: Final = 2**31 - 1  # INTEGER


def column_limit(digits: int) -> Decimal:
    """The first value a ``NUMERIC(digits, PRICE_PLACES)`` column cannot hold."""
    return Decimal(10) ** (digits - PRICE_PLACES)


# --- validators ------------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the last representable instant
        raise ValueError("is outside the range of representable times") from None


def _within_market_years(value: datetime) -> datetime:
    if not EARLIEST_TIME <= value <= LATEST_TIME:
        raise ValueError(
            f"must lie within years {EARLIEST_TIME.year}-{LATEST_TIME.year} (UTC), got {value:%Y}"
        )
    return value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _places(value: Decimal) -> Decimal:
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise ValueError(f"must have at most {PRICE_PLACES} decimal places")
    return value


def _below(limit: Decimal) -> AfterValidator:
    def check(value: Decimal) -> Decimal:
        if abs(value) >= limit:
            raise ValueError(f"must be below {limit:,.0f} in magnitude")
        return value

    return AfterValidator(check)


def _plain_text(value: str) -> str:
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cs"):
            raise ValueError(f"must not contain control characters (found U+{ord(character):04X})")
    return value


PriceValue = NewType("PriceValue", Decimal)
"""Account currency per share: a price, or a distance between prices (risk per share)."""

MoneyValue = NewType("MoneyValue", Decimal)
"""An amount of account currency: equity, risk, P&L."""

PercentValue = NewType("PercentValue", Decimal)
"""A percentage (of equity, or a confidence): 0.5 is half a percent."""

QuantityValue = NewType("QuantityValue", Decimal)
"""A number of shares (fractional when the policy's quantity step allows)."""

# --- what every layer holds ------------------------------------------------------------------

Price = Annotated[
    PriceValue, AfterValidator(_finite), Field(gt=0), _below(column_limit(PRICE_DIGITS))
]
"""A strictly positive, finite price a price column holds."""

Quantity = Annotated[
    QuantityValue, AfterValidator(_finite), Field(ge=0), _below(column_limit(QUANTITY_DIGITS))
]
"""A non-negative number of shares."""

Money = Annotated[MoneyValue, AfterValidator(_finite), _below(column_limit(MONEY_DIGITS))]
"""A finite amount of account currency; may be negative (a loss)."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A timezone-aware instant, normalised to UTC; naive datetimes are refused."""

# --- what an edge accepts --------------------------------------------------------------------

InputPrice = Annotated[
    PriceValue,
    AfterValidator(_finite),
    Field(gt=0, le=int(MAX_PRICE)),
    AfterValidator(_places),
]
"""A price a client sends: finite, above 0, at most MAX_PRICE, at most 8 decimal places."""

QuantityStep = Annotated[
    QuantityValue, AfterValidator(_finite), Field(gt=0, le=int(MAX_SHARES)), AfterValidator(_places)
]
"""The smallest number of shares traded: 1, or 0.0001 for crypto and FX."""

Equity = Annotated[
    MoneyValue, AfterValidator(_finite), Field(gt=0, le=int(MAX_EQUITY)), AfterValidator(_places)
]
"""A strictly positive, finite amount of account currency: the account's equity."""

Percent = Annotated[PercentValue, AfterValidator(_finite), Field(ge=0, le=100)]
"""A percentage between 0 and 100 (of equity, or a confidence)."""

RMultiple = Annotated[Decimal, Field(ge=0, le=int(MAX_R_MULTIPLE), allow_inf_nan=False)]
"""A reward-to-risk ratio as the orchestrator estimates it."""

MarketTime = Annotated[AwareDatetime, AfterValidator(_as_utc), AfterValidator(_within_market_years)]
"""A time a client sends: timezone-aware, normalised to UTC, within years 1970-2200."""

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_LENGTH),
    AfterValidator(_plain_text),
]
"""Free text a person writes (a reason): 1-500 characters, no NUL or control characters."""

SequenceNumber = Annotated[int, Field(ge=0, le=MAX_SEQUENCE)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]


def normalise_symbol(text: str) -> str:
    """A symbol as it is kept: upper-cased, nothing around it (`` aapl`` -> ``AAPL``)."""
    return text.strip().upper()


def _normalise_symbol(value: object) -> object:
    return normalise_symbol(value) if isinstance(value, str) else value


SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9._/:-]*$"
"""The one rule of a symbol, once normalised; every other spelling of it derives from it."""
SYMBOL_QUERY_PATTERN = SYMBOL_PATTERN.replace("A-Z", "A-Za-z")
"""The same rule as a client may spell a symbol: any case (it is upper-cased)."""
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
_BAR_UNITS = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}


def bar_length(timeframe: str) -> timedelta:
    """``1d`` -> one day, ``15m`` -> fifteen minutes. A daily bar counts as a calendar day:
    an entry expiring after 3 bars of ``1d`` expires on the first bar at least 3 days after
    its signal (a weekend makes that fewer trading bars, never more)."""
    found = re.fullmatch(TIMEFRAME_PATTERN, timeframe.strip().lower())
    if found is None:
        raise ValueError(f"not a timeframe: {timeframe!r} (expected e.g. 1d, 4h, 15m)")
    count = int(timeframe.strip().lower()[: found.start(1)])
    return count * _BAR_UNITS[found.group(1)]


def _bounded_bar(timeframe: str) -> str:
    if bar_length(timeframe) > MAX_BAR:
        raise ValueError(f"must name a bar of at most {MAX_BAR.days} days, got {timeframe}")
    return timeframe


Timeframe = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=2, max_length=16, pattern=TIMEFRAME_PATTERN
    ),
    AfterValidator(_bounded_bar),
]
"""A bar's length: a count and a unit (``1d``, ``4h``, ``15m``, ``30s``, ``1w``). It is what
market time counts in, e.g. an entry order's expiry in bars."""
