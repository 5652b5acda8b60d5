"""Bars read from files are kept as their values (``BarBlock``) and made price updates only
where needed: a block reads as the updates it holds, and a play of files read that way is the
very play of the same bars given as updates (states, plans, events, snapshots, marks)."""

import json
from pathlib import Path

import pytest

from campaign_engine.backtest.engine import run_backtest
from campaign_engine.backtest.report import build_report
from campaign_engine.backtest.report_html import render_html
from campaign_engine.backtest.sources import files_timeline, merge_in_time, scenario_timeline
from campaign_engine.backtest.timeline import BarBlock, Bars, Decision, Timeline
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.formats.input_files import parse_price_rows, parse_prices
from campaign_engine.scenarios import Scenario, load_scenario
from campaign_engine.scenarios.random_scenarios import random_scenario

CSV = (
    "symbol,as_of,open,high,low,close\n"
    "AAPL,2024-10-15T15:00:00Z,149,150,148,149.5\n"
    "MSFT,2024-10-15T15:00:00Z,410.10,411,409,410\n"
)


def test_a_block_reads_as_the_updates_it_holds() -> None:
    updates = parse_prices(CSV, "bars.csv")
    block = BarBlock(parse_price_rows(CSV, "bars.csv"))
    assert len(block) == 2 and list(block) == updates and block == tuple(updates)
    assert block[1] == updates[1] and block[-1:] == updates[-1:]
    assert block.symbols() == ["AAPL", "MSFT"]
    assert block.marks() == [u.last for u in updates]
    assert block.times() == [u.as_of for u in updates]
    tick = PriceUpdate.tick("AAPL", updates[0].as_of, updates[0].low)  # type: ignore[arg-type]
    ticks = BarBlock(parse_price_rows(json.dumps([tick.model_dump(mode="json")]), "t.json"))
    assert ticks[0] == tick and ticks.marks() == [tick.price]


def _files(scenario: Scenario, folder: Path, backwards: bool) -> tuple[Timeline, Timeline]:
    """The scenario's signals and bars as files (one bar file per symbol, its bars
    ``backwards`` in time or not), read, beside the same signals and bars merged in time as
    updates."""
    timeline = scenario_timeline(scenario)
    signals = [s for step in timeline.steps if isinstance(step, Decision) for s in step.signals]
    # as files: every signal stamped as the one it was decided with
    (folder / "signals.json").write_text(json.dumps([s.model_dump(mode="json") for s in signals]))
    by_symbol: dict[str, list[str]] = {}
    updates = [u for step in timeline.steps if isinstance(step, Bars) for u in step.updates]
    for u in updates:
        row = f"{u.symbol},{u.as_of.isoformat()},{u.open},{u.high},{u.low},{u.close}"
        by_symbol.setdefault(u.symbol, []).append(row)
    files = []
    for symbol, rows in by_symbol.items():
        files.append(str(folder / f"{symbol}.csv"))
        rows = rows[::-1] if backwards else rows
        Path(files[-1]).write_text("symbol,as_of,open,high,low,close\n" + "\n".join(rows) + "\n")
    read = files_timeline(str(folder / "signals.json"), files)
    ordered = sorted(updates, key=lambda u: list(by_symbol).index(u.symbol))  # file order
    given = Timeline(tuple(merge_in_time(signals, ordered)), read.source, read.labels)
    return read, given


@pytest.mark.parametrize("seed", [None, 3, 7, 11])
def test_files_read_as_blocks_play_as_the_updates(seed: int | None, tmp_path: Path) -> None:
    scenario = load_scenario() if seed is None else random_scenario(seed)
    read, given = _files(scenario, tmp_path, backwards=seed is not None)
    assert any(isinstance(s, Bars) and isinstance(s.updates, BarBlock) for s in read.steps)
    assert read.steps == given.steps
    run = run_backtest(read)
    assert run == run_backtest(given)
    # the report charts each symbol's bars as gathered while reading, as from the steps
    assert read.rows_by_symbol is not None and given.rows_by_symbol is None
    report = build_report(run, read)
    assert render_html(report, run, read) == render_html(report, run, given)
