"""Reading entry signals and price updates from files for the CLI, with errors a person can act
on: which file, which record, which field, and what was wrong."""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.formats.price_rows import BarRows, PriceRow, row_of, update_of
from campaign_engine.formats.validation_errors import problem_lines

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class InputError(ValueError):
    """The input cannot be used; nothing was sent."""


def read_text(path: str, stdin: io.TextIOBase | None = None) -> str:
    """The file's text; ``-`` reads standard input."""
    if path == "-":
        if stdin is None:
            import sys

            return sys.stdin.read()
        return stdin.read()
    try:
        return Path(path).read_text()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None


def _records_from_json(text: str, source: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source} is not valid JSON: {error}") from None
    return data if isinstance(data, list) else [data]


def _record(header: Sequence[str], row: Sequence[str]) -> dict[str, str]:
    """A CSV row as a record, as ``csv.DictReader`` reads it: its cells by column name (the
    last column of a name wins, a column the row is too short for is empty, cells beyond the
    header are dropped); and empty cells mean "not given", as an absent JSON field would."""
    cells = dict(zip(header, row, strict=False))
    cells.update((name, "") for name in header[len(row) :])
    return {k: v for k, v in cells.items() if k and v}


def _rows_from_csv(text: str, source: str) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows that are not blank."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise InputError(f"{source} is empty")
    return header, (row for row in reader if row)


def _validate(model: type[M], records: Iterable[Any], source: str) -> list[M]:
    parsed: list[M] = []
    problems: list[str] = []
    for n, record in enumerate(records, start=1):
        try:
            parsed.append(model.model_validate(record))
        except ValidationError as error:
            problems += problem_lines(error, prefix=f"  record {n}, ", whole="(record)")
    return _checked(parsed, problems, source)


def _checked(parsed: list[R], problems: list[str], source: str) -> list[R]:
    if problems:
        head = f"{source}: {len(problems)} problem(s), nothing was sent"
        raise InputError("\n".join([head, *problems[:20]]))
    if not parsed:
        raise InputError(f"{source} holds no records")
    return parsed


def parse_signals(text: str, source: str = "input") -> list[EntrySignal]:
    """One entry signal (a JSON object) or several (a JSON array)."""
    return _validate(EntrySignal, _records_from_json(text, source), source)


def parse_prices(text: str, source: str = "input") -> list[PriceUpdate]:
    """Price updates as JSON (an object or an array) or CSV with a header row
    (symbol,as_of and price, or open,high,low,close; optional sequence)."""
    return [update_of(row) for row in parse_price_rows(text, source)]


def parse_price_rows(text: str, source: str = "input") -> list[PriceRow]:
    """What ``parse_prices`` reads, or the same error, each update kept as its values (a
    long file's bars are made updates only where they are needed)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return [row_of(u) for u in _validate(PriceUpdate, _records_from_json(text, source), source)]
    header, rows = _rows_from_csv(text, source)
    problems: list[str] = []

    def validated(n: int, row: Sequence[str]) -> PriceRow | None:
        """A row the quick reading could not take, as ``model_validate`` decides it."""
        try:
            return row_of(PriceUpdate.model_validate(_record(header, row)))
        except ValidationError as error:
            problems.extend(problem_lines(error, prefix=f"  record {n}, ", whole="(record)"))
            return None

    return _checked(BarRows(header).read(rows, validated), problems, source)
