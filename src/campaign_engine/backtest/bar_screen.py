"""Bad prints in a backtest (SPEC section 11): the bars of a timeline through the same screen
as the live intake (domain/print_screen.py), per symbol, in the order played, before any
campaign sees them, so a backtest and the live stack take the same bars.

A bar the screen discards, or still holds when the timeline ends, is dropped from the timeline;
a held bar the next one confirms is played at its own market time. (Live, a confirmed update
reaches the campaigns with the one that confirmed it, merged into that bar when they arrive
together: the prices are the same, only a decision made between the two could see the
portfolio otherwise.)

A symbol's first reference is the entry price of a signal given for it before its first bar,
as live. Most bars pass at a glance: their low and high within the bounds of the symbol's last
price, computed once per bar (``band_bounds``); only the others go through ``judge``."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from campaign_engine.backtest.timeline import BarBlock, Bars, Step, Timeline
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import HUNDRED, ZERO
from campaign_engine.domain.print_screen import Verdict, band_bounds, judge
from campaign_engine.formats.price_rows import PriceRow, update_of

_Item = PriceRow | PriceUpdate


@dataclass(frozen=True, slots=True)
class ScreenedTimeline:
    timeline: Timeline
    dropped: tuple[PriceUpdate, ...]  # discarded, or still held at the end, in the order played


def screen_timeline(timeline: Timeline, band_pct: Decimal) -> ScreenedTimeline:
    """``timeline`` without the bars the screen does not let through."""
    if band_pct <= ZERO:
        return ScreenedTimeline(timeline, ())
    dropped: list[_Item] = []
    seeds = _seeds(timeline)
    for symbol, items in _by_symbol(timeline).items():
        dropped.extend(_screen_symbol(items, band_pct, seeds.get(symbol)))
    if not dropped:
        return ScreenedTimeline(timeline, ())
    gone = {id(item) for item in dropped}
    steps: list[Step] = []
    for step in timeline.steps:
        if isinstance(step, Bars):
            step = replace(step, updates=_without(step.updates, gone))
            if not step.updates:
                continue  # an instant whose every bar was dropped: nothing happened
        steps.append(step)
    by_symbol = timeline.rows_by_symbol
    if by_symbol is not None:
        by_symbol = {s: [r for r in rows if id(r) not in gone] for s, rows in by_symbol.items()}
    kept = replace(timeline, steps=tuple(steps), rows_by_symbol=by_symbol)
    order = {id(item): n for n, item in enumerate(_played(timeline))}
    dropped.sort(key=lambda item: order[id(item)])
    return ScreenedTimeline(kept, tuple(_update(item) for item in dropped))


def _played(timeline: Timeline) -> Iterable[_Item]:
    for step in timeline.steps:
        if isinstance(step, Bars):
            updates = step.updates
            yield from updates.rows if isinstance(updates, BarBlock) else updates


def _by_symbol(timeline: Timeline) -> dict[str, Sequence[_Item]]:
    """Each symbol's bars in the order played (gathered already when read from files)."""
    if timeline.rows_by_symbol is not None:
        return dict(timeline.rows_by_symbol)
    grouped: dict[str, list[_Item]] = {}
    for item in _played(timeline):
        grouped.setdefault(_symbol(item), []).append(item)
    return dict(grouped)


def _seeds(timeline: Timeline) -> dict[str, Decimal]:
    """Per symbol, the entry price of the first signal given for it before any of its bars:
    its first reference, as POST /signals seeds it live (db/price_screens.py)."""
    priced: set[str] = set()  # symbols that had a bar
    seeds: dict[str, Decimal] = {}
    for step in timeline.steps:
        if isinstance(step, Bars):
            updates = step.updates
            priced.update(
                updates.symbols() if isinstance(updates, BarBlock) else map(_symbol, updates)
            )
        else:
            for signal in step.signals:
                if signal.symbol not in priced:
                    seeds.setdefault(signal.symbol, signal.entry_price)
    return seeds


def _screen_symbol(items: Sequence[_Item], band_pct: Decimal, seed: Decimal | None) -> list[_Item]:
    """The bars of one symbol the screen drops (``seed``: its reference before the first)."""
    dropped: list[_Item] = []
    reference = seed
    lowest, highest = (ZERO, ZERO) if seed is None else band_bounds(seed, band_pct)
    held: _Item | None = None
    rows = not isinstance(items[0], PriceUpdate) if items else False
    for item in items:
        if rows:  # a row's values, read in place: the hot loop of a long backtest
            last = item[5]  # type: ignore[index]
            low = item[4] or last  # type: ignore[index]
            high = item[3] or last  # type: ignore[index]
        else:
            low, high, last = _prices(item)
        if held is None and lowest <= low and high <= highest and reference is not None:
            reference = last  # most bars: passed at a glance
            reach = last * band_pct / HUNDRED  # band_bounds, inlined
            lowest, highest = last - reach, last + reach
            continue
        verdict = judge(reference, None if held is None else _prices(held)[2], low, high, band_pct)
        if verdict in (Verdict.HELD, Verdict.REPLACED):
            if held is not None:
                dropped.append(held)
            held = item
            continue
        if verdict is Verdict.REFUTED and held is not None:
            dropped.append(held)
        held = None
        reference = last
        lowest, highest = band_bounds(last, band_pct)
    if held is not None:
        dropped.append(held)  # never confirmed
    return dropped


def _prices(item: _Item) -> tuple[Decimal, Decimal, Decimal]:
    """low, high, last"""
    if isinstance(item, PriceUpdate):
        return item.bar_low, item.bar_high, item.last
    mark = item[5]
    low, high = item[4], item[3]
    return (mark if low is None else low), (mark if high is None else high), mark


def _symbol(item: _Item) -> str:
    return item.symbol if isinstance(item, PriceUpdate) else item[0]


def _update(item: _Item) -> PriceUpdate:
    return item if isinstance(item, PriceUpdate) else update_of(item)


def _without(updates: Sequence[PriceUpdate], gone: set[int]) -> Sequence[PriceUpdate]:
    if isinstance(updates, BarBlock):
        return BarBlock([row for row in updates.rows if id(row) not in gone])
    return tuple(u for u in updates if id(u) not in gone)
