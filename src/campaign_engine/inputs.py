"""Reading entry signals and price updates from files for the CLI, with errors a person can act
on: which file, which record, which field, and what was wrong."""

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.validation_errors import problem_lines

M = TypeVar("M", bound=BaseModel)


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


def _records_from_csv(text: str, source: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise InputError(f"{source} is empty")
    # Empty cells mean "not given", as an absent JSON field would.
    return [{k: v for k, v in row.items() if k and v not in (None, "")} for row in reader]


def _validate(model: type[M], records: Sequence[Any], source: str) -> list[M]:
    parsed: list[M] = []
    problems: list[str] = []
    for n, record in enumerate(records, start=1):
        try:
            parsed.append(model.model_validate(record))
        except ValidationError as error:
            problems += problem_lines(error, prefix=f"  record {n}, ", whole="(record)")
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
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        records: list[Any] = _records_from_json(text, source)
    else:
        records = _records_from_csv(text, source)
    return _validate(PriceUpdate, records, source)
