"""Coalescing price updates into bars (SPEC section 9): however many updates arrive between
two sends, the bar sent carries their high and low, so no crossing is ever lost."""

from collections.abc import Iterable

from campaign_engine.domain.market import PriceUpdate


def merge(bar: PriceUpdate | None, update: PriceUpdate) -> PriceUpdate:
    """``bar`` extended by ``update``: first open, highest high, lowest low, and the close,
    time and sequence of the newest update."""
    if bar is None:
        if update.is_bar:
            return update
        return PriceUpdate(
            symbol=update.symbol,
            as_of=update.as_of,
            open=update.last,
            high=update.last,
            low=update.last,
            close=update.last,
            sequence=update.sequence,
        )
    if update.symbol != bar.symbol:
        raise ValueError(f"cannot merge {update.symbol} into a {bar.symbol} bar")
    newest = update if update.as_of >= bar.as_of else bar
    return PriceUpdate(
        symbol=bar.symbol,
        as_of=newest.as_of,
        open=bar.bar_open,
        high=max(bar.bar_high, update.bar_high),
        low=min(bar.bar_low, update.bar_low),
        close=newest.last,
        sequence=newest.sequence,
    )


def merge_all(updates: Iterable[PriceUpdate]) -> PriceUpdate | None:
    bar = None
    for update in updates:
        bar = merge(bar, update)
    return bar


def price_correlation_id(update: PriceUpdate) -> str:
    """What the events a price causes are correlated with (and their ids derived from): the
    symbol, the market time and the feed's sequence number when it sends one."""
    suffix = f"#{update.sequence}" if update.sequence is not None else ""
    return f"price:{update.symbol}@{update.as_of.isoformat()}{suffix}"
