"""Reading a scenario's ``prices.csv``: one row per symbol and bar, every bar complete, each
symbol's bars moving forward in time."""

import csv
import io
from collections.abc import Sequence

from pydantic import ValidationError

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.formats.validation_errors import problem_lines
from campaign_engine.scenarios.model import ScenarioError, ScenarioRange, refuse

PRICE_COLUMNS = ("bar", "symbol", "as_of", "open", "high", "low", "close")


def parse_prices(
    text: str, origin: str, ranges: Sequence[ScenarioRange]
) -> tuple[tuple[PriceUpdate, ...], ...]:
    """Bars by index, each with one update per symbol of the scenario, in the ranges' order."""
    reader = csv.DictReader(io.StringIO(text))
    columns = tuple(c.strip() for c in reader.fieldnames or ())
    missing = [c for c in PRICE_COLUMNS if c not in columns]
    if missing:
        raise ScenarioError(
            f"{origin}: the header must name the columns {', '.join(PRICE_COLUMNS)}; "
            f"missing {', '.join(missing)}"
        )
    symbols = tuple(dict.fromkeys(r.symbol for r in ranges))
    by_bar: dict[int, dict[str, PriceUpdate]] = {}
    problems: list[str] = []
    for row in reader:
        line = f"line {reader.line_num}"
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            bar = int(values["bar"])
            if bar < 0:
                raise ValueError
        except ValueError:
            problems.append(f"{line}: bar must be a whole number >= 0, got {values['bar']!r}")
            continue
        try:
            update = PriceUpdate.model_validate(
                {k: values[k] or None for k in ("symbol", "as_of", "open", "high", "low", "close")}
            )
        except ValidationError as error:
            problems.extend(problem_lines(error, prefix=f"{line}: ", whole="(file)"))
            continue
        if update.symbol not in symbols:
            problems.append(f"{line}: no range trades {update.symbol}")
        elif update.symbol in by_bar.setdefault(bar, {}):
            problems.append(f"{line}: a second {update.symbol} row for bar {bar}")
        else:
            by_bar[bar][update.symbol] = update
    count = max(by_bar, default=-1) + 1
    if count == 0 and not problems:
        problems.append("no price rows")
    for bar in range(count):
        absent = [s for s in symbols if s not in by_bar.get(bar, {})]
        if absent:
            problems.append(f"bar {bar}: no price for {', '.join(absent)}")
    if not problems:
        for symbol in symbols:
            times = [by_bar[bar][symbol].as_of for bar in range(count)]
            for bar in range(1, count):
                if times[bar] <= times[bar - 1]:
                    problems.append(f"bar {bar}: {symbol}'s as_of is not after bar {bar - 1}'s")
    if problems:
        raise refuse(origin, problems)
    return tuple(tuple(by_bar[bar][s] for s in symbols) for bar in range(count))
