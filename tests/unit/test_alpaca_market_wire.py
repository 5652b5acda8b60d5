"""Alpaca's market-data messages as the feed reads them (market_data/alpaca_wire.py), from the
examples of Alpaca's documentation: bars stamped at their end in market time, prices exact,
corrections apart, errors by their documented codes, a refused bar reported and never raised,
history pages with their token. alpaca-py's own ``Bar`` model reads the same bars as the
reference."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alpaca.data.models.bars import Bar

from campaign_engine.market_data.alpaca_wire import (
    ErrorKind,
    read_history,
    read_stream,
    subscribe_message,
)

D = Decimal
# Alpaca's documented minute bar example (stream and history share its fields).
SPY = (
    '{"T":"b","S":"SPY","o":388.985,"h":389.13,"l":388.975,"c":389.12,"v":49378,'
    '"t":"2021-02-22T19:15:00Z","n":461,"vw":389.062639}'
)
SPY_CORRECTED = SPY.replace('"T":"b"', '"T":"u"')


def test_a_bar_is_stamped_at_its_end_with_its_prices_exact() -> None:
    batch = read_stream(f"[{SPY}]")
    (bar,) = batch.bars
    assert bar.symbol == "SPY"
    assert bar.as_of == datetime(2021, 2, 22, 19, 16, tzinfo=UTC)  # opened 19:15, a minute
    assert (bar.open, bar.high, bar.low, bar.close) == (
        D("388.985"),
        D("389.13"),
        D("388.975"),
        D("389.12"),
    )
    reference = Bar("SPY", {k: v for k, v in json.loads(SPY).items() if k != "T"})
    assert (str(bar.open), str(bar.close)) == (str(reference.open), str(reference.close))
    assert reference.timestamp == datetime(2021, 2, 22, 19, 15, tzinfo=UTC)  # its start


def test_corrections_control_and_errors_are_told_apart() -> None:
    frame = (
        '[{"T":"success","msg":"connected"},{"T":"success","msg":"authenticated"},'
        + SPY_CORRECTED
        + ","
        '{"T":"subscription","trades":[],"quotes":[],"bars":["SPY"],"updatedBars":["SPY"],'
        '"dailyBars":[],"statuses":[],"lulds":[],"corrections":[],"cancelErrors":[]},'
        '{"T":"error","code":406,"msg":"connection limit exceeded"}]'
    )
    batch = read_stream(frame)
    assert batch.successes == ["connected", "authenticated"]
    assert batch.bars == [] and [u.symbol for u in batch.updated] == ["SPY"]
    assert batch.subscribed is not None and batch.subscribed["bars"] == ["SPY"]
    (error,) = batch.errors
    assert (error.code, error.message, error.kind) == (
        406,
        "connection limit exceeded",
        ErrorKind.CONNECTION_LIMIT,
    )


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        (400, "invalid syntax", ErrorKind.INVALID),
        (401, "not authenticated", ErrorKind.NOT_AUTHENTICATED),
        (402, "auth failed", ErrorKind.CREDENTIALS),
        (404, "auth timeout", ErrorKind.AUTH_TIMEOUT),
        (405, "symbol limit exceeded", ErrorKind.SYMBOL_LIMIT),
        (406, "connection limit exceeded", ErrorKind.CONNECTION_LIMIT),
        (407, "slow client", ErrorKind.SLOW_CLIENT),
        (409, "insufficient subscription", ErrorKind.SUBSCRIPTION),
        (500, "internal error", ErrorKind.SERVER),
        (499, "something new", ErrorKind.SERVER),
    ],
)
def test_each_documented_error_code_has_its_kind(code: int, message: str, kind: ErrorKind) -> None:
    (error,) = read_stream(f'[{{"T":"error","code":{code},"msg":"{message}"}}]').errors
    assert error.kind is kind


def test_a_bar_the_value_domain_refuses_is_reported_not_raised() -> None:
    upside_down = SPY.replace('"l":388.975', '"l":390.5')  # low above the close
    batch = read_stream(f"[{upside_down},{SPY}]")
    assert [b.symbol for b in batch.bars] == ["SPY"]  # the good one still comes
    (refused,) = batch.refused
    assert refused.symbol == "SPY" and "low" in refused.reason


def test_a_history_page_reads_every_symbol_and_its_token() -> None:
    page = json.loads(
        '{"bars":{"AAPL":[{"t":"2024-10-15T14:30:00Z","o":148.5,"h":149,"l":148.25,"c":148.75,'
        '"v":100,"n":3,"vw":148.6},{"t":"2024-10-15T14:31:00Z","o":148.75,"h":149.5,"l":148.7,'
        '"c":149.25,"v":80,"n":2,"vw":149}],"MSFT":[{"t":"2024-10-15T14:30:00Z","o":410,"h":411,'
        '"l":409.5,"c":410.5,"v":50,"n":1,"vw":410.2}]},"next_page_token":"QUFQTHxN"}',
        parse_float=Decimal,
    )
    read = read_history(page)
    assert [(b.symbol, b.as_of.minute, b.close) for b in read.bars] == [
        ("AAPL", 31, D("148.75")),
        ("AAPL", 32, D("149.25")),
        ("MSFT", 31, D("410.5")),
    ]
    assert read.next_page_token == "QUFQTHxN"
    assert read_history({"bars": {}, "next_page_token": None}).next_page_token is None


def test_a_subscription_asks_for_the_minute_bars() -> None:
    assert json.loads(subscribe_message("subscribe", ["MSFT", "AAPL", "AAPL"])) == {
        "action": "subscribe",
        "bars": ["AAPL", "MSFT"],
    }
