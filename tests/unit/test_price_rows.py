"""The CSV price parser takes most rows without validating each whole row with pydantic, and
still gives, for any file, exactly what validating every record with ``PriceUpdate`` gives:
the same updates (values, fields given) or the same error, naming the file, the record and
the field."""

import csv
import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.formats.input_files import InputError, parse_prices
from campaign_engine.formats.validation_errors import problem_lines


def validated_one_by_one(text: str, source: str) -> list[PriceUpdate]:
    """The oracle: every CSV record (csv.DictReader, empty cells absent) validated by
    ``PriceUpdate.model_validate``, its problems reported as ``parse_prices`` reports them."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError(f"{source} is empty")
    records = [{k: v for k, v in row.items() if k and v not in (None, "")} for row in reader]
    parsed: list[PriceUpdate] = []
    problems: list[str] = []
    for n, record in enumerate(records, start=1):
        try:
            parsed.append(PriceUpdate.model_validate(record))
        except ValidationError as error:
            problems += problem_lines(error, prefix=f"  record {n}, ", whole="(record)")
    if problems:
        head = f"{source}: {len(problems)} problem(s), nothing was sent"
        raise InputError("\n".join([head, *problems[:20]]))
    if not parsed:
        raise InputError(f"{source} holds no records")
    return parsed


def outcome(parse: Any, text: str) -> tuple[str, object]:
    try:
        updates = parse(text, "bars.csv")
    except InputError as error:
        return "refused", str(error)
    return "read", [(u.model_dump(), u.model_fields_set) for u in updates]


SYMBOLS = ["AAPL", "aapl", " msft ", "BRK.B", "BTC/USD", "", "a b", "X" * 40, "-X"]
TIMES = [
    "2024-10-15T14:30:00Z",
    "2024-10-15T14:30:00+00:00",
    "2024-10-15T16:30:00+02:00",
    "2024-10-15T14:30:00.250000Z",
    "2024-10-15 14:30:00Z",
    "2024-10-15T14:30:00",
    "2024-10-15",
    "1728999000",
    "yesterday",
    "",
]
PRICES = ["150.00", "150", "149.5", "151.25", "0.01", "0", "-1", "1e2", " 150 ", "1_50"]
PRICES += ["NaN", "inf", "abc", "", "150.", ".5", "0150.50"]
SEQUENCES = ["", "0", "7", "-1", "1.0", "x", " 3"]
COLUMNS = ["symbol", "as_of", "open", "high", "low", "close"]


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    """A header of the bar columns, perhaps with more (a tick's price, a sequence, one the
    model does not know, one without a name, one twice), in any order; rows of good bars,
    some cells anything from the lists above, some rows too short, too long or blank."""
    header = list(COLUMNS)
    for extra in draw(
        st.lists(st.sampled_from(["price", "sequence", "volume", "", "close"]), max_size=2)
    ):
        header.insert(draw(st.integers(0, len(header))), extra)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    anything = {
        "symbol": SYMBOLS,
        "as_of": TIMES,
        "sequence": SEQUENCES,
        "price": ["150.10", *PRICES],
        "volume": ["", "100"],
        "": ["", "x"],
    }
    rows: list[list[str]] = []
    bar_prices = st.lists(st.sampled_from(PRICES[:4]), min_size=4, max_size=4)
    for _ in range(draw(st.integers(1, 8))):
        low, a, b, high = sorted(draw(bar_prices), key=float)
        o, c = (a, b) if draw(st.booleans()) else (b, a)
        good = {"symbol": "AAPL", "as_of": TIMES[draw(st.integers(0, 3))], "open": o, "high": high}
        good |= {"low": low, "close": c, "sequence": str(len(rows)), "price": "", "volume": "1"}
        good[""] = ""
        row = [
            draw(st.sampled_from(anything.get(name, PRICES)))
            if draw(st.integers(0, 24)) == 0
            else good[name]
            for name in header
        ]
        shape = draw(st.sampled_from(["as is"] * 9 + ["short", "long", "blank"]))
        if shape == "short":
            row = row[:-1]
        elif shape == "long":
            row = [*row, "9"]
        elif shape == "blank":
            row = []
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(text=csv_files())
def test_any_csv_reads_as_validating_every_record_reads_it(text: str) -> None:
    assert outcome(parse_prices, text) == outcome(validated_one_by_one, text)


def test_a_long_file_of_bars_reads_as_validating_every_record_reads_it() -> None:
    lines = ["symbol,as_of,open,high,low,close,sequence"]
    for day in range(1, 29):
        for n, symbol in enumerate(["aapl", "MSFT", "BRK.B"]):
            low = 100 + day + n
            seq = str(day) if n else ""
            lines.append(
                f"{symbol},2024-02-{day:02d}T21:00:00-05:00,{low + 1}.5,{low + 2},{low},"
                f"{low + 1}.25,{seq}"
            )
    text = "\n".join(lines) + "\n"
    read = outcome(parse_prices, text)
    assert read[0] == "read"
    assert read == outcome(validated_one_by_one, text)
    assert parse_prices(text, "bars.csv") == validated_one_by_one(text, "bars.csv")  # as models


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("AAPL,2024-10-15T14:30:00Z,150,149,148,148.5", "(record)"),
        ("AAPL,2024-10-15T14:30:00,150,151,148,148.5", "as_of"),
        ("AAPL,2024-10-15T14:30:00Z,150,151,-148,148.5", "low"),
        ("AA PL,2024-10-15T14:30:00Z,150,151,148,148.5", "symbol"),
    ],
)
def test_a_bad_row_among_good_ones_is_named_by_record_and_field(row: str, field: str) -> None:
    good = "AAPL,2024-10-14T14:30:00Z,150,151,148,148.5"
    text = f"symbol,as_of,open,high,low,close\n{good}\n\n{row}\n"
    with pytest.raises(InputError) as raised:
        parse_prices(text, "bars.csv")
    assert str(raised.value).startswith("bars.csv: 1 problem(s), nothing was sent\n")
    assert f"  record 2, {field}" in str(raised.value)
    assert outcome(parse_prices, text) == outcome(validated_one_by_one, text)
