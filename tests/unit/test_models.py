"""Bad input is refused at the boundary with a clear message (SPEC section 3 rule 1)."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from campaign_engine.domain.market import EntrySignal, PriceUpdate, TradingRange
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import signal, trading_range

D = Decimal


def _signal_data(**changes: Any) -> dict[str, Any]:
    data = signal(Pattern.SOS)
    return {**data.model_dump(), **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"entry_price": "0"}, "greater than 0"),
        ({"entry_price": "NaN"}, "finite"),
        ({"entry_price": "Infinity"}, "finite"),
        ({"stop_loss": "150.25"}, "stop_loss 150.25 must be below entry_price"),
        ({"targets": ["156", "155", "159"]}, "strictly increasing"),
        ({"targets": ["150", "156", "159"]}, "first target 150 must be above entry_price"),
        ({"targets": ["156", "159"]}, "targets"),
        ({"confidence": "101"}, "less than or equal to 100"),
        ({"confidence": "-1"}, "greater than or equal to 0"),
        ({"r_multiple": "-0.5"}, "greater than or equal to 0"),
        ({"requested_risk_pct": "0"}, "greater than 0"),
        ({"generated_at": datetime(2024, 10, 15)}, "timezone"),  # noqa: DTZ001 - the point
        ({"symbol": "MSFT"}, "does not match its trading range's symbol"),
        ({"timeframe": "1d"}, "does not match its trading range's timeframe"),
        ({"pattern": "UPTHRUST"}, "SPRING"),
        ({"unexpected": 1}, "Extra inputs"),
    ],
)
def test_invalid_signals_are_refused_with_a_clear_message(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        EntrySignal.model_validate(_signal_data(**changes))


def test_signal_round_trips_through_json_with_exact_decimals() -> None:
    original = signal(Pattern.SOS)
    text = original.model_dump_json()
    assert '"entry_price":"150.25"' in text
    assert EntrySignal.model_validate_json(text) == original


def test_float_input_keeps_its_decimal_meaning() -> None:
    data = _signal_data(entry_price=150.1, stop_loss=148.3)
    parsed = EntrySignal.model_validate(data)
    assert parsed.entry_price == D("150.1") and parsed.stop_loss == D("148.3")


def test_times_are_normalised_to_utc() -> None:
    data = _signal_data(generated_at="2024-10-15T10:30:00-04:00")
    assert EntrySignal.model_validate(data).generated_at.isoformat() == "2024-10-15T14:30:00+00:00"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ice": "144"}, "creek < ice < jump"),
        ({"jump": "150"}, "creek < ice < jump"),
        ({"spring_low": "151"}, "spring_low 151 must be below ice"),
        ({"symbol": "bad symbol!"}, "pattern"),
    ],
)
def test_invalid_ranges(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TradingRange.model_validate({**trading_range().model_dump(), **changes})


def test_symbols_are_upper_cased() -> None:
    assert trading_range(symbol=" aapl ").symbol == "AAPL"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"price": "1", "open": "1", "high": "1", "low": "1", "close": "1"}, "not both"),
        ({"open": "1", "high": "2", "low": "1"}, "all of open/high/low/close"),
        ({}, "all of open/high/low/close"),
        ({"open": "3", "high": "2", "low": "1", "close": "2"}, "low <= open, close <= high"),
        ({"price": "-1"}, "greater than 0"),
        ({"price": "1", "sequence": -1}, "greater than or equal to 0"),
    ],
)
def test_invalid_price_updates(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PriceUpdate.model_validate({"symbol": "AAPL", "as_of": "2024-10-15T14:30:00Z", **data})


def test_a_tick_reads_as_a_flat_bar() -> None:
    update = PriceUpdate.model_validate(
        {"symbol": "AAPL", "as_of": "2024-10-15T14:30:00Z", "price": "150.5"}
    )
    assert not update.is_bar
    assert update.bar_open == update.bar_high == update.bar_low == update.last == D("150.5")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bmad_weights": {"SPRING": "0.5", "SOS": "0.3", "LPS": "0.3"}}, "sum to 1"),
        ({"exit_fractions": ["0.6", "0.4"]}, "leave a rest"),
        ({"heat_warning_pct": "9.5"}, "warning <= critical"),
        ({"quantity_step": "0"}, "greater than 0"),
    ],
)
def test_incoherent_policies_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Policy.model_validate(changes)
