"""Each charted symbol's bars, gathered in one pass over a run and made candles only where a
chart shows them (a campaign's chart shows a window of its symbol's bars)."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from campaign_engine.backtest.charts import Candle
from campaign_engine.backtest.timeline import BarBlock, Bars, Timeline
from campaign_engine.formats.price_rows import PriceRow, row_of


@dataclass(frozen=True, slots=True)
class SymbolBars:
    """One symbol's bars in the order played (as ``PriceRow``), made candles only where a
    chart shows them."""

    rows: Sequence[PriceRow]
    times: Sequence[datetime]

    def candles(self, start: int, stop: int) -> list[Candle]:
        # a tick's open, high and low are its price, the row's mark
        return [
            Candle(
                at,
                mark if o is None else o,
                mark if h is None else h,
                mark if lo is None else lo,
                mark,
            )
            for _, at, o, h, lo, mark, _, _ in self.rows[start:stop]
        ]


def bars_of(timeline: Timeline, symbols: Collection[str]) -> dict[str, SymbolBars]:
    """The bars of ``symbols`` (those with a campaign to chart)."""
    gathered = timeline.rows_by_symbol
    if gathered is not None:
        return {
            s: SymbolBars(rows, [r[1] for r in rows])
            for s in symbols
            for rows in (gathered.get(s, ()),)
        }
    by_symbol: dict[str, list[PriceRow]] = {s: [] for s in symbols}
    get = by_symbol.get
    for step in timeline.steps:
        if isinstance(step, Bars):
            updates = step.updates
            rows = updates.rows if isinstance(updates, BarBlock) else list(map(row_of, updates))
            for row in rows:
                of_symbol = get(row[0])
                if of_symbol is not None:
                    of_symbol.append(row)
    return {s: SymbolBars(rows, [r[1] for r in rows]) for s, rows in by_symbol.items()}
