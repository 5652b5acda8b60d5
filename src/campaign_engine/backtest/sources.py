"""What a backtest plays, read into a ``Timeline``: a scenario folder (the demo's format), or a
file of entry signals with bar files for any number of symbols (the formats of ``campaigns
submit`` and ``campaigns prices``).

Ordering, by market time:

- a scenario: bar by bar, as ``Scenario.steps()`` says; the steps listed before bar ``i`` (a
  lone signal, or a batch) are decided before it, in file order, at a market time between bar
  ``i - 1`` and bar ``i`` (a minute before bar ``i``, or half-way when the bars are closer);
- signals and bars: every instant in time order; at each, the signals stamped with it
  (``generated_at``) are decided first, as one batch, then its bars, in file order. So a
  signal is decided before every bar stamped at or after it, and after every earlier bar.
"""

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from campaign_engine.backtest.timeline import BarBlock, Bars, Decision, Step, Timeline
from campaign_engine.domain.market import EntrySignal, PriceUpdate
from campaign_engine.formats.input_files import (
    InputError,
    parse_price_rows,
    parse_signals,
    read_text,
)
from campaign_engine.formats.price_rows import PriceRow, update_of

if TYPE_CHECKING:  # a scenario's modules load only when a scenario is played
    from campaign_engine.scenarios import Scenario, ScenarioSignal

SCENARIO_IDS = UUID("3d1c1f0e-5b8a-4c55-9a57-1f2b3c4d5e6f")
"""The namespace of the ids a scenario's ranges and signals are given (from their keys)."""

_TIME = itemgetter(1)  # a PriceRow's as_of


def scenario_entry(scenario: "Scenario", signal: "ScenarioSignal", at: datetime) -> EntrySignal:
    """The entry signal a scenario's signal is, generated at ``at``."""
    scenario_range = scenario.range(signal.range)
    trading_range = scenario_range.trading_range(uuid5(SCENARIO_IDS, scenario_range.key))
    return signal.entry_signal(trading_range, uuid5(SCENARIO_IDS, signal.id), at)


def scenario_timeline(scenario: "Scenario") -> Timeline:
    """A scenario bar by bar, each step of signals before the bar it is listed for."""
    steps: list[Step] = []
    by_bar = scenario.steps()
    for index, updates in enumerate(scenario.bars):
        if index in by_bar:
            at = scenario.decision_time(index)
            for step in by_bar[index]:
                entries = tuple(scenario_entry(scenario, s, at) for s in step.signals)
                steps.append(Decision(at, entries))
        steps.append(Bars(max(u.as_of for u in updates), updates))
    labels = {uuid5(SCENARIO_IDS, s.id): s.id for s in scenario.signals}
    return Timeline(tuple(steps), scenario.source, labels)


def merge_in_time(signals: Sequence[EntrySignal], bars: Sequence[PriceUpdate]) -> list[Step]:
    """Every instant in time order: the signals stamped with it (one batch), then its bars."""
    decisions: dict[datetime, list[EntrySignal]] = {}
    for signal in signals:
        decisions.setdefault(signal.generated_at, []).append(signal)
    prices: dict[datetime, list[PriceUpdate]] = {}
    for bar in bars:
        prices.setdefault(bar.as_of, []).append(bar)
    steps: list[Step] = []
    for at in sorted(decisions.keys() | prices.keys()):
        if at in decisions:
            steps.append(Decision(at, tuple(decisions[at])))
        if at in prices:
            steps.append(Bars(at, tuple(prices[at])))
    return steps


def merge_rows_in_time(
    signals: Sequence[EntrySignal],
    files: Sequence[tuple[str, Sequence[PriceRow]]],
    by_symbol: dict[str, list[PriceRow]],
) -> list[Step]:
    """``merge_in_time`` of the rows of bar files, each instant's bars kept as a
    ``BarBlock``; raises InputError naming every bar that repeats a symbol's time. Each
    symbol's rows are gathered into ``by_symbol`` on the way, in time order."""
    decisions: dict[datetime, list[EntrySignal]] = {}
    for signal in signals:
        decisions.setdefault(signal.generated_at, []).append(signal)
    prices: dict[datetime, list[PriceRow]] = {}
    for _, rows in files:
        for row in rows:
            prices.setdefault(row[1], []).append(row)
            by_symbol.setdefault(row[0], []).append(row)
    steps: list[Step] = []
    for at in sorted(decisions.keys() | prices.keys()):
        if at in decisions:
            steps.append(Decision(at, tuple(decisions[at])))
        if at in prices:
            block = BarBlock(prices[at])
            if len(set(block.symbols())) < len(block):  # a symbol twice at one time
                _repeated_bars([(path, [update_of(r) for r in rows]) for path, rows in files])
            steps.append(Bars(at, block))
    for rows in by_symbol.values():
        rows.sort(key=_TIME)  # in the order played (files need not be in time order)
    return steps


def _repeated_bars(files: Sequence[tuple[str, Sequence[PriceUpdate]]]) -> None:
    """Names each bar that repeats a symbol's time (the second look, only when one does)."""
    seen: dict[tuple[str, datetime], str] = {}
    problems: list[str] = []
    for path, updates in files:
        for n, bar in enumerate(updates, start=1):
            key, where = (bar.symbol, bar.as_of), f"{path} record {n}"
            if key in seen:
                problems.append(
                    f"  {where}: a second {bar.symbol} bar at {bar.as_of.isoformat()} "
                    f"(the first is {seen[key]})"
                )
            else:
                seen[key] = where
    if problems:
        head = f"{len(problems)} bar(s) repeat a symbol's time, nothing was played"
        raise InputError("\n".join([head, *problems[:20]]))


def files_timeline(signals_file: str, bar_files: Sequence[str]) -> Timeline:
    """Signals (JSON, as ``campaigns submit`` reads) and bar files (CSV or JSON, as
    ``campaigns prices`` reads) merged in market time. Raises InputError naming the file,
    the record and the field of anything wrong."""
    if not bar_files:
        raise InputError("give at least one bar file (--bars)")
    signals = parse_signals(read_text(signals_file), signals_file)
    files = [(path, parse_price_rows(read_text(path), path)) for path in bar_files]
    by_symbol: dict[str, list[PriceRow]] = {}
    steps = merge_rows_in_time(signals, files, by_symbol)
    labels = {s.signal_id: str(s.signal_id) for s in signals}
    return Timeline(tuple(steps), f"{signals_file} + {', '.join(bar_files)}", labels, by_symbol)


def scenario_folder_timeline(folder: Path) -> Timeline:
    """The scenario in ``folder`` (or its scenario.json). Raises ScenarioError."""
    from campaign_engine.scenarios import load_scenario

    return scenario_timeline(load_scenario(folder))
