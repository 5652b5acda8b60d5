"""What the stages of ``campaigns backtest`` cannot go below in CPython, per bar of the same
file: the least work each stage must do, each measured alone (CPU microseconds per bar).

- start-up: the interpreter alone, and the interpreter with every module the command loads;
- parsing: the csv module's rows, four ``Decimal``s from text, one ``fromisoformat``, the
  six cache look-ups the parser makes per row instead, the tuple of values a bar is kept as
  (``PriceRow``), and a ``PriceUpdate`` built from values without validation (what a bar
  that reaches a campaign costs), beside ``model_validate`` of a row (what each row once cost);
- the play: reading two fields of every bar (which every stage that looks at all the bars
  pays at least once: the objects are spread over memory).
"""

import csv
import io
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from pathlib import Path

from campaign_engine.backtest.timeline import Bars, Timeline
from campaign_engine.cli.backtest import collector_paused
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.formats.price_rows import built_update

COMMAND_IMPORTS = (
    "from campaign_engine.cli import main\n"
    "from campaign_engine.backtest import engine, sources, report, report_html, report_json\n"
    "import rich.progress, rich.table\n"
    "from campaign_engine.cli.common import read_settings; read_settings()"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_of(work: Callable[[], object], rounds: int = 3) -> float:
    """The least CPU seconds of ``rounds`` runs of ``work``, as the command runs (with the
    cyclic garbage collector paused)."""
    best = float("inf")
    for _ in range(rounds):
        with collector_paused():
            start = time.process_time()
            work()
            best = min(best, time.process_time() - start)
    return best


def _python_cpu(code: str, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        before = _children_cpu()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, _children_cpu() - before)
    return best


SAMPLE = 20_000
"""Rows each per-bar figure is measured on (the start-up is shared by all the bars)."""


def floors(bars_file: Path, timeline: Timeline) -> list[tuple[str, float]]:
    """(what, CPU µs per bar), in the order of the stages."""
    lines = bars_file.read_text().splitlines(keepends=True)
    bars = len(lines) - 1
    text = "".join(lines[: SAMPLE + 1])
    rows = list(csv.reader(io.StringIO(text)))[1:]
    count = len(rows)
    values = [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
    cache: dict[str, object] = {v: v for row in values for v in row}
    typed = [
        (s, datetime.fromisoformat(t), Decimal(o), Decimal(h), Decimal(lo), Decimal(c))
        for s, t, o, h, lo, c in values
    ]
    names = ("symbol", "as_of", "open", "high", "low", "close")
    records = [dict(zip(names, v, strict=True)) for v in values]
    updates: Sequence[PriceUpdate] = [
        u for step in timeline.steps if isinstance(step, Bars) for u in step.updates
    ][:count]
    fields = attrgetter("symbol", "close")

    def each(work: Callable[[], object]) -> float:
        return 1e6 * _cpu_of(work) / count

    def built() -> object:
        return [built_update(*v, None) for v in typed]

    def decimals() -> object:
        return [Decimal(text) for v in values for text in v[2:]]

    return [
        ("start-up: python alone", 1e6 * _python_cpu("pass") / bars),
        ("start-up: python and the command's imports", 1e6 * _python_cpu(COMMAND_IMPORTS) / bars),
        ("parse: csv rows", each(lambda: list(csv.reader(io.StringIO(text))))),
        ("parse: 4 Decimals from text", each(decimals)),
        ("parse: 1 fromisoformat", each(lambda: [datetime.fromisoformat(v[1]) for v in values])),
        ("parse: 6 cache look-ups", each(lambda: [cache[x] for v in values for x in v])),
        ("parse: a row's values kept as a tuple", each(lambda: [(*v, None, None) for v in typed])),
        (
            "parse: PriceUpdate built, no validation",
            each(lambda: [built_update(*v, None) for v in typed]),
        ),
        ("parse: PriceUpdate.model_validate", each(lambda: list(map(_validated, records)))),
        ("play: 2 fields read of every bar", each(lambda: list(map(fields, updates)))),
    ]


def _validated(record: dict[str, str]) -> PriceUpdate:
    return PriceUpdate.model_validate(record)
