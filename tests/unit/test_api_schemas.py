"""How the REST API writes numbers, times and errors, without a server."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from campaign_engine.api.schemas import (
    BRANCH_TAGS,
    AllocationPlanOut,
    CampaignDetailOut,
    MetricsOut,
    PositionOut,
    PricesIn,
    StatusChangeIn,
    campaign_fields,
    decimal_text,
    utc_text,
)
from campaign_engine.db.read_model import CampaignPage, CampaignRecord
from campaign_engine.domain.ledger import summarize
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import plus
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.formats.validation_errors import readable_errors
from campaign_engine.testing.builders import EQUITY, Book, signal, tick

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("499.50000000"), "499.5"),
        (D("499.50"), "499.5"),
        (D("100000"), "100000"),
        (D("1E+2"), "100"),
        (D("0E-8"), "0"),
        (D("-0.00"), "0"),
        (D("-12.34000"), "-12.34"),
        (D("0.00000001"), "0.00000001"),
        (D("150.04789135"), "150.04789135"),
    ],
)
def test_decimals_are_plain_strings_without_trailing_zeros(value: Decimal, text: str) -> None:
    assert decimal_text(value) == text


def test_times_are_utc_with_a_z() -> None:
    paris = timezone(timedelta(hours=2))
    assert utc_text(datetime(2024, 10, 15, 16, 30, tzinfo=paris)) == "2024-10-15T14:30:00Z"


def _story() -> Book:
    book = Book()
    for pattern in (Pattern.SPRING, Pattern.SOS, Pattern.LPS):
        book.submit(signal(pattern))
    book.price(tick("150.00", 1))
    return book


def test_a_live_state_reads_like_the_read_model() -> None:
    state = _story().state
    record = CampaignRecord.from_state(state, plus(EQUITY, state.realized_pnl))
    mark = record.last_price
    summary = summarize(state.positions, mark=mark, equity=EQUITY)
    detail = CampaignDetailOut(
        **campaign_fields(record),
        source="workflow",
        positions=[PositionOut.of(p, mark) for p in state.positions],
        metrics=MetricsOut(**MetricsOut.fields_of(summary)),
    )
    data = detail.model_dump(mode="json")
    assert (data["status"], data["total_allocation"], data["realized_pnl"]) == (
        "MARKUP",
        "2.0985",
        "249",  # the Spring's first target: 166 x 1.50
    )
    assert data["last_price"] == "150" and data["last_price_at"].endswith("Z")
    assert data["metrics"]["total_shares"] == "1233"  # 167 + 666 + 400 still open
    assert [p["stop"] for p in data["positions"]] == ["148.5", "148.75", "149.5"]
    assert all(isinstance(v, str) for v in data["metrics"].values() if not isinstance(v, int))


def test_a_state_without_a_campaign_has_no_record() -> None:
    refused = Book().state
    with pytest.raises(ValueError, match="not a campaign yet"):
        CampaignRecord.from_state(refused, EQUITY)


def test_plans_keep_every_field_as_text() -> None:
    plan = Book().submit(signal(Pattern.SPRING))
    data = AllocationPlanOut.model_validate(plan).model_dump(mode="json")
    assert (data["shares"], data["risk_amount"], data["weight"], data["priority_score"]) == (
        "333",
        "499.5",
        "0.4",
        "71",  # confidence 80 x 0.4 + 3.0 R x 10 x 0.3 + SPRING 100 x 0.3
    )
    assert data["decided_at"].endswith("Z") and data["rejection_code"] is None


def test_a_page_is_the_sequence_of_its_items() -> None:
    state = _story().state
    record = CampaignRecord.from_state(state, EQUITY)
    page = CampaignPage([record, record], total_count=5, limit=2, offset=2)
    assert (len(page), page[0], list(page)) == (2, record, [record, record])
    assert page.has_more
    assert not CampaignPage([record], total_count=5, limit=2, offset=4).has_more
    assert not CampaignPage([], total_count=5, limit=2, offset=10).has_more


def _errors(adapter: TypeAdapter[object], value: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        adapter.validate_python(value)
    return readable_errors(caught.value.errors(), hidden=BRANCH_TAGS)


def test_one_price_or_many_names_only_the_shape_that_was_sent() -> None:
    prices: TypeAdapter[object] = TypeAdapter(PricesIn)
    one = {"symbol": "AAPL", "as_of": "2024-10-15T14:30:00Z", "price": "-1"}
    assert _errors(prices, one) == [
        {
            "loc": ["price"],
            "msg": "Input should be greater than 0",
            "type": "greater_than",
            "input": "-1",
        }
    ]
    many = [{**one, "price": "1"}, {"symbol": "AAPL"}]
    assert [e["loc"] for e in _errors(prices, many)] == [[1, "as_of"]]
    assert isinstance(prices.validate_python(many[:1]), list)
    assert isinstance(prices.validate_python(many[0]), PriceUpdate)


def test_model_errors_lose_the_value_error_prefix_and_objects_are_not_echoed() -> None:
    change: TypeAdapter[object] = TypeAdapter(StatusChangeIn)
    errors = _errors(change, {"status": "sleeping", "version": 0})
    assert [e["loc"] for e in errors] == [["status"], ["version"]]
    assert "'ACTIVE', 'MARKUP', 'COMPLETED', 'INVALIDATED' or 'QUARANTINED'" in str(
        errors[0]["msg"]
    )
    assert errors[0]["input"] == "SLEEPING"
    assert TypeAdapter(StatusChangeIn).validate_python(
        {"status": " markup ", "version": 3}
    ) == StatusChangeIn(status=CampaignStatus.MARKUP, version=3)

    bar = {"symbol": "AAPL", "as_of": "2024-10-15T14:30:00Z", "open": "10", "high": "11"}
    [error] = _errors(TypeAdapter(PriceUpdate), {**bar, "low": "12", "close": "10"})
    assert str(error["msg"]).startswith("bar must satisfy low <= open, close <= high")
    assert "input" not in error  # the whole object is not echoed back
