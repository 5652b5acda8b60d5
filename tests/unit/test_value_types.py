"""Prices, money, percentages and shares are told apart by mypy only: at run time each is a
plain Decimal, validated and serialised by pydantic exactly as before, and the conversions
between them keep Decimal's exactness."""

from decimal import Decimal
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from campaign_engine.domain.events import ExitExecuted
from campaign_engine.domain.money import (
    average_price,
    difference,
    percent_of,
    plus,
    scaled,
    shares_risking,
    total,
    value_of,
)
from campaign_engine.domain.risk import percent_of_equity
from campaign_engine.domain.types import (
    Equity,
    Money,
    MoneyValue,
    Percent,
    Price,
    PriceValue,
    Quantity,
    QuantityStep,
)
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern
from campaign_engine.temporal.converter import data_converter
from campaign_engine.testing.builders import EQUITY, D, as_money, as_percent, as_price, as_shares

pytestmark = pytest.mark.unit


class Numbers(BaseModel):
    price: Price
    shares: Quantity
    money: Money
    percent: Percent
    equity: Equity
    step: QuantityStep


def _numbers(**changes: str) -> Numbers:
    values = {
        "price": "148.50",
        "shares": "333",
        "money": "-499.50",
        "percent": "0.4995",
        "equity": "100000",
        "step": "1",
    }
    return Numbers.model_validate(values | changes)


def test_each_kind_is_a_plain_decimal_serialised_as_a_string() -> None:
    numbers = _numbers()
    assert all(type(v) is Decimal for v in numbers.model_dump().values())
    assert numbers.model_dump_json() == (
        '{"price":"148.50","shares":"333","money":"-499.50","percent":"0.4995",'
        '"equity":"100000","step":"1"}'
    )
    assert type(PriceValue(D("1.50"))) is Decimal


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "0", "greater than 0"),
        ("shares", "-1", "greater than or equal to 0"),
        ("percent", "100.01", "less than or equal to 100"),
        ("equity", "0", "greater than 0"),
        ("step", "0", "greater than 0"),
        ("money", "NaN", "finite"),
        ("price", "Infinity", "finite"),
    ],
)
def test_each_kind_refuses_what_it_always_refused(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _numbers(**{field: value})


def test_money_may_be_negative() -> None:
    assert _numbers(money="-1").money == D(-1)


def test_the_worked_spring_in_kinds() -> None:
    per_share = difference(high=as_price("148.50"), low=as_price("147.00"))
    assert per_share == D("1.50")
    shares = shares_risking(
        percent=as_percent("0.5"), equity=EQUITY, per_share=per_share, step=as_shares(1)
    )
    assert shares == D(333)
    risk = value_of(shares=shares, price=per_share)
    assert (risk, str(risk)) == (D("499.50"), "499.50")
    assert percent_of(part=risk, whole=EQUITY) == D("0.4995")
    assert str(percent_of_equity(risk, EQUITY)) == "0.49950000"


def test_risk_percentages_round_up_to_eight_places() -> None:
    third = percent_of_equity(as_money(1), as_money(300))
    assert third == D("0.33333334")  # 0.3333...% never understated


def test_same_kind_arithmetic_is_the_operators() -> None:
    a, b = as_money("499.50"), as_money("999.00")
    assert str(plus(a, b)) == str(a + b) == "1498.50"
    assert total([a, b]) == D("1498.50")
    none: list[MoneyValue] = []
    assert total(none) == D(0)
    assert difference(high=as_shares(333), low=as_shares(166)) == D(167)
    assert difference(high=as_price(147), low=as_price("148.50")) == D("-1.50")
    assert str(scaled(as_percent("5.0"), by=D("0.40"))) == "2.000"
    assert scaled(as_percent("1.0"), by=D("0.70"), over=D("0.30")) == D("1.0") * D("0.70") / D(
        "0.30"
    )


def test_average_price_to_eight_places() -> None:
    held = [(as_price(100), as_shares(100)), (as_price(102), as_shares(80))]
    held.append((as_price(103), as_shares(60)))
    assert str(average_price(held)) == "101.41666667"
    assert average_price([]) is None


def test_typed_fields_keep_their_payload_bytes() -> None:
    """The bytes a Temporal payload carried before the kinds existed, for the same values."""
    event = ExitExecuted(
        position_id=UUID(int=1),
        pattern=Pattern.SPRING,
        purpose=OrderPurpose.target(0),
        quantity=as_shares(166),
        price=as_price("150.00"),
        realized_pnl=as_money("249.00"),
        open_shares=as_shares(167),
    )
    (payload,) = data_converter.payload_converter.to_payloads([event])
    assert payload.data == (
        b'{"kind":"ExitExecuted","position_id":"00000000-0000-0000-0000-000000000001",'
        b'"pattern":"SPRING","purpose":"TARGET_1","quantity":"166","price":"150.00",'
        b'"realized_pnl":"249.00","open_shares":"167"}'
    )
    assert data_converter.payload_converter.from_payloads([payload], [ExitExecuted]) == [event]
