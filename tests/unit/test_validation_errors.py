"""One way to say what is wrong with input: the same message and location whether the API
answers it as JSON or the CLI, the settings or a scenario file print it as a line."""

from decimal import Decimal
from typing import Annotated

import pytest
from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from campaign_engine.formats.validation_errors import (
    error_message,
    location_text,
    problem_lines,
    readable_errors,
)


class Leg(BaseModel):
    price: Annotated[Decimal, Field(gt=0)]


class Order(BaseModel):
    symbol: str
    legs: list[Leg]

    @model_validator(mode="after")
    def _two_legs_at_most(self) -> "Order":
        if len(self.legs) > 2:
            raise ValueError("an order has two legs at most")
        return self


def _refusal(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Order.model_validate(value)
    return caught.value


def test_the_message_loses_only_the_value_error_prefix() -> None:
    error = _refusal({"symbol": "AAPL", "legs": [{"price": "1"}] * 3})
    [detail] = error.errors()
    assert detail["msg"] == "Value error, an order has two legs at most"
    assert error_message(detail) == "an order has two legs at most"
    assert error_message({"msg": "Input should be greater than 0"}) == (
        "Input should be greater than 0"
    )


def test_locations_read_as_paths_and_the_whole_input_is_named() -> None:
    assert location_text(["legs", 1, "price"]) == "legs[1].price"
    assert location_text([0, "symbol"]) == "[0].symbol"
    assert location_text([]) == "(input)"
    assert location_text((), whole="(record)") == "(record)"


def test_lines_carry_a_prefix_and_top_level_names_can_be_renamed() -> None:
    error = _refusal({"legs": [{"price": "1"}, {"price": "-2"}]})
    assert problem_lines(error, prefix="record 3, ") == [
        "record 3, symbol: Field required",
        "record 3, legs[1].price: Input should be greater than 0",
    ]
    renamed = problem_lines(error, names={"symbol": "ORDER_SYMBOL", "legs": "ORDER_LEGS"})
    assert renamed == [
        "ORDER_SYMBOL: Field required",
        "ORDER_LEGS[1].price: Input should be greater than 0",
    ]
    whole = _refusal({"symbol": "AAPL", "legs": [{"price": "1"}] * 3})
    assert problem_lines(whole, whole="(record)") == ["(record): an order has two legs at most"]


def test_json_errors_hide_branch_tags_and_echo_only_scalars() -> None:
    errors = readable_errors(
        [
            {
                "loc": ("__one__", "price"),
                "msg": "Value error, too low",
                "type": "value_error",
                "input": "-1",
            },
            {"loc": ("body",), "msg": "bad bar", "type": "bar", "input": {"open": "1"}},
        ],
        hidden={"__one__"},
    )
    assert errors == [
        {"loc": ["price"], "msg": "too low", "type": "value_error", "input": "-1"},
        {"loc": ["body"], "msg": "bad bar", "type": "bar"},
    ]


def test_the_json_and_the_lines_say_the_same() -> None:
    error = _refusal({"symbol": "AAPL", "legs": [{"price": "0"}]})
    [item] = readable_errors(error.errors())
    [line] = problem_lines(error)
    assert line == f"{location_text(item['loc'])}: {item['msg']}"


def test_tags_are_hidden_from_real_union_errors() -> None:
    tag = "__one__"
    shaped = Annotated[
        Annotated[Leg, Tag(tag)] | Annotated[list[Leg], Tag("__many__")],
        Discriminator(lambda v: "__many__" if isinstance(v, list) else tag),
    ]
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(shaped).validate_python({"price": "-1"})
    assert caught.value.errors()[0]["loc"][0] == tag
    [item] = readable_errors(caught.value.errors(), hidden={tag, "__many__"})
    assert item["loc"] == ["price"]


def test_the_settings_and_the_cli_files_use_it() -> None:
    from campaign_engine.formats.input_files import InputError, parse_prices
    from campaign_engine.runtime.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as bad_environment:
        load_settings({"ACCOUNT_EQUITY": "-5", "METRICS_PORT": "x"})
    assert str(bad_environment.value).startswith(
        "invalid configuration: ACCOUNT_EQUITY: Input should be greater than 0; METRICS_PORT: "
    )
    bar = '{"symbol": "AAPL", "as_of": "2024-10-15T14:30:00Z", "open": "1", "high": "2", '
    with pytest.raises(InputError) as bad_file:
        parse_prices(f'[{bar}"low": "3", "close": "1"}}]', "bars.json")
    assert "\n  record 1, (record): bar must satisfy low <= open" in str(bad_file.value)


def test_what_is_echoed_json_can_carry_and_is_short() -> None:
    import json
    import math

    class Bar(BaseModel, extra="forbid"):
        symbol: Annotated[str, Field(max_length=8)]
        price: Annotated[Decimal, Field(gt=0)]

    huge = "A" * 100_000
    cases = [
        ({"symbol": "X", "price": math.nan}, "NaN"),
        ({"symbol": "X", "price": math.inf}, "Infinity"),
        ({"symbol": "X", "price": -math.inf}, "-Infinity"),
    ]
    for data, echoed in cases:
        with pytest.raises(ValidationError) as caught:
            Bar.model_validate(data)
        [item] = readable_errors(caught.value.errors())
        assert item["loc"] == ["price"] and item["input"] == echoed
        json.dumps(item, allow_nan=False)  # what the API's JSON encoder demands
    with pytest.raises(ValidationError) as caught:
        Bar.model_validate({"symbol": huge, "price": "1", huge: 1})
    too_long, unknown = readable_errors(caught.value.errors())
    assert too_long["input"] == "A" * 64 + "…" and too_long["input_length"] == 100_000
    assert unknown["loc"] == ["A" * 64 + "…"] and "input_length" not in unknown
    assert len(json.dumps([too_long, unknown])) < 600
    long_message = {"loc": ["x"], "msg": "Value error, " + huge, "type": "value_error"}
    assert len(readable_errors([long_message])[0]["msg"]) == 301


def test_a_time_past_the_calendar_once_in_utc_is_refused_naming_it() -> None:
    from campaign_engine.domain.types import UtcDatetime

    with pytest.raises(ValidationError) as caught:
        TypeAdapter(UtcDatetime).validate_python("9999-12-31T23:59:59-23:59")
    assert error_message(caught.value.errors()[0]) == "is outside the range of representable times"
