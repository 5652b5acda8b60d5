"""Decimal arithmetic shared by every rule: money, shares and percentages never touch float."""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
_EIGHT_PLACES = Decimal("0.00000001")  # NUMERIC(18,8), the precision prices are stored at


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` not above ``value`` (whole shares when step is 1)."""
    if step <= ZERO:
        raise ValueError(f"quantity step must be positive, got {step}")
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def percent_of(amount: Decimal, equity: Decimal) -> Decimal:
    """``amount`` as a percentage of ``equity`` (499.50 of 100,000 -> 0.4995)."""
    return amount * HUNDRED / equity


def to_price_precision(value: Decimal) -> Decimal:
    """Round a derived price (an average) to the 8 places prices are kept at."""
    return value.quantize(_EIGHT_PLACES, rounding=ROUND_HALF_EVEN)


def risk_percent_of(amount: Decimal, equity: Decimal) -> Decimal:
    """Risk as a percentage of equity to 8 places, rounded up: risk recorded against a limit
    is never understated."""
    return percent_of(amount, equity).quantize(_EIGHT_PLACES, rounding=ROUND_CEILING)


def in_places_of(value: Decimal, like: Decimal) -> Decimal:
    """``value`` written with ``like``'s decimal places when that loses nothing (159.000 ->
    159.00 next to an ice of 150.00), so derived levels read like the levels they come from."""
    rounded = value.quantize(like)
    return rounded if rounded == value else value
