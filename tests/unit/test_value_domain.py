"""SPEC section 11's value domain: each kind of value has one domain, defined in
``domain/types.py``, refused past its bounds at every edge and held at its bounds by every
column. The tables take each bound and a step past it; the properties generate values around
the bounds and check that what an edge accepts, the rules can size, persist and derive from
without leaving the columns' range."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from campaign_engine.db.schema import MONEY, PRICE, QUANTITY
from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import (
    LATEST_TIME,
    MAX_PRICE,
    MAX_SHARES,
    Equity,
    InputPrice,
    MarketTime,
    Money,
    Price,
    Quantity,
    Text,
    Timeframe,
    column_limit,
)
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from campaign_engine.temporal.messages import ChangeStatusRequest, InvalidateRequest
from campaign_engine.testing.builders import Book, as_money, signal, trading_range

pytestmark = pytest.mark.unit

D = Decimal


def _accepts(kind: Any, value: object) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("0.00000001", True),  # the smallest price: one unit of the 8th place
        ("0.000000001", False),  # the bad tick of the issue: below what a column holds
        ("148.50", True),
        ("148.500000000", True),  # trailing zeros are no extra precision
        ("1000000000", True),  # MAX_PRICE
        ("1000000000.00000001", False),
        ("20000000000", False),  # the price that wedged a campaign
        ("1e400", False),
        ("NaN", False),
        ("Infinity", False),
        ("0", False),
        ("-1", False),
    ],
)
def test_a_price_an_edge_accepts(value: str, accepted: bool) -> None:
    assert _accepts(InputPrice, D(value)) is accepted
    assert _accepts(InputPrice, value) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("1970-01-01T00:00:00Z", True),
        ("1969-12-31T23:59:59Z", False),
        ("2200-12-31T23:59:59Z", True),
        ("2201-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59-23:59", False),  # past the last instant once in UTC: no 500
        ("0001-01-01T00:00:00+23:59", False),
        ("2024-10-15T14:30:00", False),  # naive
    ],
)
def test_a_market_time(value: str, accepted: bool) -> None:
    assert _accepts(MarketTime, value) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("range broken", True),
        ("x" * 500, True),
        ("x" * 501, False),
        ("nul\u0000byte", False),  # the reason that PostgreSQL refused
        ("line\nbreak", False),
        ("tab\there", False),
        ("escape \u001b[31m", False),
        ("Fünf Minuten, ok", True),
        ("   ", False),
    ],
)
def test_text(value: str, accepted: bool) -> None:
    assert _accepts(Text, value) is accepted
    assert _accepts(InvalidateRequest, {"reason": value}) is accepted


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("1d", True), ("4w", True), ("31d", True), ("5w", False), ("32d", False), ("9999w", False)],
)
def test_a_bar_is_at_most_a_month(value: str, accepted: bool) -> None:
    assert _accepts(Timeframe, value) is accepted


@pytest.mark.parametrize(
    ("version", "accepted"), [(1, True), (2**31 - 1, True), (2**31, False), (0, False)]
)
def test_a_version_fits_its_column(version: int, accepted: bool) -> None:
    assert _accepts(ChangeStatusRequest, {"status": "MARKUP", "version": version}) is accepted


def test_a_sequence_fits_a_bigint() -> None:
    at = "2024-10-15T14:30:00Z"
    assert _accepts(PriceUpdate, {"symbol": "A", "as_of": at, "price": "1", "sequence": 2**63 - 1})
    assert not _accepts(PriceUpdate, {"symbol": "A", "as_of": at, "price": "1", "sequence": 2**63})


def test_equity_is_bounded() -> None:
    assert _accepts(Equity, "1000000000000000")
    assert not _accepts(Equity, "1000000000000001")


def test_the_columns_hold_what_the_rules_derive() -> None:
    """The held widths are the columns', and each is wider than what accepted values make."""
    assert PRICE.precision is not None and PRICE.scale == 8
    assert column_limit(PRICE.precision) > 2 * MAX_PRICE  # targets reach ice + 2M < 2 x jump
    assert QUANTITY.precision is not None and column_limit(QUANTITY.precision) > MAX_SHARES
    assert MONEY.precision is not None and column_limit(MONEY.precision) > MAX_SHARES * MAX_PRICE
    assert not _accepts(Price, column_limit(PRICE.precision))
    assert not _accepts(Quantity, column_limit(QUANTITY.precision))
    assert not _accepts(Money, -column_limit(MONEY.precision))
    assert LATEST_TIME + 10_000 * timedelta(days=31) < datetime.max.replace(tzinfo=UTC)


def test_a_position_past_the_share_bound_is_refused_not_sized() -> None:
    """The largest equity risking 0.5% on a cent per share would size 5 x 10^14 shares."""
    rng = trading_range(creek="999999990", ice="999999995", jump="1000000000")
    book = Book(state=CampaignState.for_range(rng), equity=as_money("1000000000000000"))
    plan = book.submit(signal(Pattern.SPRING, rng=rng, entry="999999994", stop="999999993.99"))
    assert not plan.approved
    assert plan.rejection_code is RejectionCode.POSITION_TOO_LARGE
    assert "more than the 1,000,000,000,000" in (plan.rejection_reason or "")


prices = st.decimals(
    min_value=D("0.00000001"), max_value=MAX_PRICE, places=8, allow_nan=False, allow_infinity=False
)


@given(creek=prices, width=prices, move=prices, risk=st.integers(1, 10_000))
def test_whatever_an_edge_accepts_the_rules_can_hold(
    creek: Decimal, width: Decimal, move: Decimal, risk: int
) -> None:
    """A range and a Spring the edge accepts are sized and laddered into values every
    column holds (or refused with a reason): nothing an edge let in can fail a save."""
    ice, jump = creek + width, creek + width + move
    if jump > MAX_PRICE:
        return
    rng = TradingRange.model_validate(
        trading_range(creek=str(creek), ice=str(ice), jump=str(jump)).model_dump()
    )
    entry = creek
    stop = entry - entry * risk / 10_001
    stop = stop.quantize(D("0.00000001"))
    if stop <= 0 or stop >= entry:
        return
    book = Book(state=CampaignState.for_range(rng))
    raw = signal(Pattern.SPRING, rng=rng, entry=str(entry), stop=str(stop)).model_dump()
    plan = book.submit(EntrySignal.model_validate(raw))
    if not plan.approved:
        assert plan.rejection_code is not None
        return
    held = book.state
    for position in held.positions:
        assert TypeAdapter(Quantity).validate_python(position.shares) <= MAX_SHARES
        for level in (*position.targets, position.stop, position.entry_price):
            TypeAdapter(Price).validate_python(level)
        TypeAdapter(Money).validate_python(position.initial_risk)
