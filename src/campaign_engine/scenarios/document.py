"""Reading ``scenario.json``: JSON, then the schema, then what no part can check alone
(references, uniqueness, signals against their ranges, expectations against the signals)."""

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from campaign_engine.domain.vocabulary import LONG_SEQUENCE
from campaign_engine.formats.validation_errors import error_message, problem_lines
from campaign_engine.scenarios.model import ExpectedStatus, ScenarioError, ScenarioFile, refuse


def parse_document(text: str, origin: str) -> ScenarioFile:
    """The scenario file ``text`` (read from ``origin``), checked whole."""
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{origin} is not valid JSON: line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise refuse(origin, problem_lines(error, whole="(file)")) from None
    problems = list(_cross_check(spec))
    if problems:
        raise refuse(origin, problems)
    return spec


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(value for value, n in Counter(values).items() if n > 1)


def _cross_check(spec: ScenarioFile) -> Iterable[str]:
    """What each part cannot check alone: references, uniqueness, signals against ranges."""
    for key in _duplicates(r.key for r in spec.ranges):
        yield f"ranges: key {key!r} is used twice"
    for campaign in _duplicates(r.campaign_id() for r in spec.ranges):
        yield (
            f"ranges: two ranges make campaign {campaign} (one campaign per symbol and start "
            "date); give them different start dates"
        )
    for key in _duplicates(s.id for s in spec.signals):
        yield f"signals: id {key!r} is used twice"
    ranges = {r.key: r for r in spec.ranges}
    for n, s in enumerate(spec.signals):
        where = f"signals[{n}] ({s.id})"
        scenario_range = ranges.get(s.range)
        if scenario_range is None:
            yield f"{where}.range: no range has key {s.range!r}"
            continue
        try:
            trading_range = scenario_range.trading_range(UUID(int=0))
        except ValidationError:
            continue  # the range's own problem is reported below
        try:
            s.entry_signal(trading_range, UUID(int=n), scenario_range.start_time)
        except ValidationError as error:
            yield from (f"{where}: {error_message(e)}" for e in error.errors())
    batches: dict[str, set[int]] = {}
    for s in spec.signals:
        if s.batch is not None:
            batches.setdefault(s.batch, set()).add(s.bar)
    for batch, bars in sorted(batches.items()):
        if len(bars) > 1:
            yield f"signals: batch {batch!r} is spread over bars {sorted(bars)}; one bar per batch"
    for n, r in enumerate(spec.ranges):
        where = f"ranges[{n}] ({r.key})"
        try:
            r.trading_range(UUID(int=0))
        except ValidationError as error:
            yield from (f"{where}: {error_message(e)}" for e in error.errors())
        patterns = {s.pattern for s in spec.signals if s.range == r.key}
        if r.expect.status is ExpectedStatus.NOT_CREATED and r.expect.entries:
            yield f"{where}.expect: a campaign that is not created has no entries"
        for pattern in r.expect.entries:
            if pattern not in patterns:
                yield f"{where}.expect.entries: no {pattern.value} signal is sent for this range"
        order = [p for p in LONG_SEQUENCE if p in r.expect.entries]
        if list(r.expect.entries) != order or len(set(order)) != len(order):
            yield f"{where}.expect.entries: list each pattern once, in SPRING, SOS, LPS order"
