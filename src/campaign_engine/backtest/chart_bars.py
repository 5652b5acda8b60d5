"""Each charted symbol's bars, gathered in one pass over a run and made candles only where a
chart shows them (a campaign's chart shows a window of its symbol's bars)."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from campaign_engine.backtest.charts import Candle
from campaign_engine.backtest.timeline import Bars, Timeline
from campaign_engine.domain.market import PriceUpdate


@dataclass(frozen=True, slots=True)
class SymbolBars:
    """One symbol's bars in the order played, made candles only where a chart shows them."""

    updates: Sequence[PriceUpdate]
    times: Sequence[datetime]

    def candles(self, start: int, stop: int) -> list[Candle]:
        return [
            Candle(u.as_of, u.bar_open, u.bar_high, u.bar_low, u.last)
            for u in self.updates[start:stop]
        ]


def bars_of(timeline: Timeline, symbols: Collection[str]) -> dict[str, SymbolBars]:
    """The bars of ``symbols`` (those with a campaign to chart)."""
    by_symbol: dict[str, list[PriceUpdate]] = {s: [] for s in symbols}
    for step in timeline.steps:
        if isinstance(step, Bars):
            for u in step.updates:
                of_symbol = by_symbol.get(u.symbol)
                if of_symbol is not None:
                    of_symbol.append(u)
    return {s: SymbolBars(bars, [u.as_of for u in bars]) for s, bars in by_symbol.items()}
