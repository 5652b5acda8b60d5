"""Decimal arithmetic shared by every rule: money, shares and percentages never touch float.

Arithmetic on ``Decimal`` gives a ``Decimal``, whatever its operands were. Where it gives a new
price, amount of money, percentage or number of shares (``domain.types``), the function here
that does it says so: shares at a price are money, money of equity is a percentage, and so on.
Each conversion is written once, here; the rules call these and never make a kind of number
out of a bare ``Decimal`` themselves.
"""

from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import TypeVar, overload

from campaign_engine.domain.types import MoneyValue, PercentValue, PriceValue, QuantityValue

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
STORED_PLACES = Decimal("0.00000001")  # NUMERIC(18,8): prices and risk percentages are stored at

NO_MONEY = MoneyValue(ZERO)
NO_SHARES = QuantityValue(ZERO)
NO_PERCENT = PercentValue(ZERO)
NO_PRICE = PriceValue(ZERO)  # a distance between prices that is none

_Ratio = TypeVar("_Ratio", PriceValue, MoneyValue)

# --- one kind in, the same kind out ----------------------------------------------------------


@overload
def total(values: Iterable[PriceValue]) -> PriceValue: ...
@overload
def total(values: Iterable[MoneyValue]) -> MoneyValue: ...
@overload
def total(values: Iterable[PercentValue]) -> PercentValue: ...
@overload
def total(values: Iterable[QuantityValue]) -> QuantityValue: ...
def total(values: Iterable[Decimal]) -> Decimal:
    """The sum of numbers of one kind (0 when there are none)."""
    return sum(values, ZERO)


@overload
def plus(first: PriceValue, *more: PriceValue) -> PriceValue: ...
@overload
def plus(first: MoneyValue, *more: MoneyValue) -> MoneyValue: ...
@overload
def plus(first: PercentValue, *more: PercentValue) -> PercentValue: ...
@overload
def plus(first: QuantityValue, *more: QuantityValue) -> QuantityValue: ...
def plus(first: Decimal, *more: Decimal) -> Decimal:
    """``first + more...`` in their kind, exactly as the operator adds (unlike ``total``, which
    starts from 0). Addition does not care about order, so the numbers need no names."""
    return sum(more, first)


@overload
def difference(*, high: PriceValue, low: PriceValue) -> PriceValue: ...
@overload
def difference(*, high: MoneyValue, low: MoneyValue) -> MoneyValue: ...
@overload
def difference(*, high: PercentValue, low: PercentValue) -> PercentValue: ...
@overload
def difference(*, high: QuantityValue, low: QuantityValue) -> QuantityValue: ...
def difference(*, high: Decimal, low: Decimal) -> Decimal:
    """``high - low`` in their kind: entry - stop is risk per share (negative when ``high`` is
    below ``low``)."""
    return high - low


@overload
def scaled(value: PriceValue, *, by: Decimal, over: Decimal = ONE) -> PriceValue: ...
@overload
def scaled(value: MoneyValue, *, by: Decimal, over: Decimal = ONE) -> MoneyValue: ...
@overload
def scaled(value: PercentValue, *, by: Decimal, over: Decimal = ONE) -> PercentValue: ...
@overload
def scaled(value: QuantityValue, *, by: Decimal, over: Decimal = ONE) -> QuantityValue: ...
def scaled(value: Decimal, *, by: Decimal, over: Decimal = ONE) -> Decimal:
    """``value * by / over`` in ``value``'s kind, for a plain factor (a weight, a fraction):
    1.5 measured moves, half the shares. Dividing by one changes nothing, not even the
    exponent."""
    return value * by / over


# --- one kind made of others --------------------------------------------------------------


def floor_to_step(value: Decimal, *, step: QuantityValue) -> QuantityValue:
    """Shares: the largest multiple of ``step`` not above ``value`` (whole shares when step
    is 1)."""
    if step <= ZERO:
        raise ValueError(f"quantity step must be positive, got {step}")
    return QuantityValue((value / step).to_integral_value(rounding=ROUND_FLOOR) * step)


def value_of(*, shares: QuantityValue, price: PriceValue) -> MoneyValue:
    """Money: ``shares`` at ``price`` each (333 shares at 1.50 of risk -> 499.50)."""
    return MoneyValue(shares * price)


def shares_risking(
    *, percent: PercentValue, equity: MoneyValue, per_share: PriceValue, step: QuantityValue
) -> QuantityValue:
    """Shares: as many as lose ``percent`` of ``equity`` at ``per_share`` each, floored to the
    step (0.5% of 100,000 at 1.50 -> 333)."""
    return floor_to_step(equity * percent / (HUNDRED * per_share), step=step)


def percent_of(*, part: _Ratio, whole: _Ratio) -> PercentValue:
    """A percentage: ``part`` of ``whole`` (499.50 of 100,000 -> 0.4995; a range 145 -> 150
    is 3.45% of its creek)."""
    return PercentValue(part * HUNDRED / whole)


def average_price(holdings: Iterable[tuple[PriceValue, QuantityValue]]) -> PriceValue | None:
    """A price: the share-weighted average of ``(price, shares)`` holdings, to the 8 places
    prices are kept at; None when they hold no shares."""
    held = list(holdings)
    shares = sum((s for _, s in held), ZERO)
    if shares == ZERO:
        return None
    return to_price_precision(sum((p * s for p, s in held), ZERO) / shares)


def to_price_precision(value: Decimal) -> PriceValue:
    """A price: a derived one (an average) rounded to the 8 places prices are kept at."""
    return PriceValue(value.quantize(STORED_PLACES, rounding=ROUND_HALF_EVEN))


def in_places_of(value: PriceValue, *, like: PriceValue) -> PriceValue:
    """``value`` written with ``like``'s decimal places when that loses nothing (159.000 ->
    159.00 next to an ice of 150.00), so derived levels read like the levels they come from."""
    rounded = value.quantize(like)
    return PriceValue(rounded) if rounded == value else value
