"""The CLI's file formats: what parses, and how a bad file is explained (nothing is sent)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.formats.input_files import InputError, parse_prices, parse_signals, read_text
from campaign_engine.testing.builders import signal


def _signal_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(signal(Pattern.SPRING).model_dump_json())
    data.update(changes)
    return data


def test_one_signal_object_and_an_array_both_parse() -> None:
    one = parse_signals(json.dumps(_signal_json()))
    many = parse_signals(json.dumps([_signal_json(), _signal_json(pattern="SOS")]))
    assert [s.pattern for s in one] == [Pattern.SPRING]
    assert [s.pattern for s in many] == [Pattern.SPRING, Pattern.SOS]
    assert one[0].entry_price == Decimal("148.50")


def test_every_bad_field_of_every_record_is_named() -> None:
    text = json.dumps([_signal_json(), _signal_json(entry_price="abc", pattern="WYCKOFF")])
    with pytest.raises(InputError) as raised:
        parse_signals(text, "signals.json")
    message = str(raised.value)
    assert message.startswith("signals.json: 2 problem(s), nothing was sent")
    assert "record 2, entry_price" in message
    assert "record 2, pattern" in message
    assert "record 1" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "holds no records"),
        ("", "is empty"),
    ],
)
def test_unusable_files_are_explained(text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse_prices(text, "prices")


def test_prices_from_csv_ticks_and_bars_with_empty_cells_as_absent() -> None:
    text = (
        "symbol,as_of,price,open,high,low,close\n"
        "aapl,2024-10-15T14:30:00Z,148.10,,,,\n"
        "AAPL,2024-10-15T14:31:00Z,,148.1,149.0,147.9,148.8\n"
    )
    updates = parse_prices(text)
    assert [u.symbol for u in updates] == ["AAPL", "AAPL"]
    assert updates[0].price == Decimal("148.10")
    assert not updates[0].is_bar and updates[1].is_bar
    assert updates[1].high == Decimal("149.0")


def test_prices_from_json_object_or_array() -> None:
    tick = {"symbol": "MSFT", "as_of": "2024-10-15T14:30:00+00:00", "price": "410.5"}
    assert len(parse_prices(json.dumps(tick))) == 1
    assert len(parse_prices(json.dumps([tick, tick]))) == 2


def test_a_bar_that_breaks_its_own_range_is_refused_with_the_reason() -> None:
    text = "symbol,as_of,open,high,low,close\nAAPL,2024-10-15T14:30:00Z,150,149,148,148.5\n"
    with pytest.raises(InputError, match=r"record 1.*low <= open, close <= high"):
        parse_prices(text)


def test_a_naive_timestamp_is_refused() -> None:
    text = "symbol,as_of,price\nAAPL,2024-10-15T14:30:00,148\n"
    with pytest.raises(InputError, match="record 1, as_of"):
        parse_prices(text)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read .*nope\.json"):
        read_text(str(tmp_path / "nope.json"))
