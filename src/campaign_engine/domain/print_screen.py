"""Bad prints (SPEC section 11): a price update further from its symbol's last accepted price
than the band (``Policy.bad_print_band_pct``) is held, not acted on, until the next update of
the symbol decides it. The rule is here once; the durable intake (db/price_screens.py), the
direct publisher (price_feed/screen.py) and the backtest (backtest/bar_screen.py) all apply it,
per symbol, in the order the updates were accepted.

- An update is *within the band of* a price ``r`` when its low and high (so every one of its
  prices: a bar's open and close lie between them; a tick is a bar of four equal prices) lie in
  ``[r * (1 - band/100), r * (1 + band/100)]``, edges included: exactly 25% away passes.
- The reference is the last accepted price: the last (close) of the newest update taken. The
  first update of a symbol has none to compare with and passes.
- The next update after a held one is judged in this order:
  1. within the band of the reference: it *refutes* the held one, which is discarded; it is
     taken. Refutation is judged first, so a print is acted on only once the market has moved
     away from the old price too (a held bar whose close is back near the reference but whose
     low was a bad print is refuted by any normal next price, never confirmed by it);
  2. within the band of the held update's last price (its close: where that bar left the
     market; its extremes may be one bad print): it *confirms* it: both are taken, in order;
  3. neither (a second bad print, far from both): it *replaces* the held one, which is
     discarded; the new one is held, against the same reference.
- A band of 0 turns the screen off: every update passes.

An operator may release a held update (it is taken and becomes the reference) or discard it.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import HUNDRED, ZERO
from campaign_engine.domain.types import PriceValue


class Verdict(StrEnum):
    PASSED = "passed"  # within the band (or nothing to compare with): taken
    HELD = "held"  # beyond the band: kept back until the next update
    CONFIRMED = "confirmed"  # the held one and this one are taken, in order
    REFUTED = "refuted"  # the held one is discarded; this one is taken
    REPLACED = "replaced"  # the held one is discarded; this one is held instead


@dataclass(frozen=True, slots=True)
class PrintScreen:
    """One symbol's screen: its last accepted price and the update held back, if any."""

    reference: PriceValue | None = None
    held: PriceUpdate | None = None


@dataclass(frozen=True, slots=True)
class Screened:
    screen: PrintScreen
    verdict: Verdict
    taken: tuple[PriceUpdate, ...]  # to pass on, in this order
    discarded: PriceUpdate | None = None  # a held update this one refuted or replaced


def band_bounds(reference: Decimal, band_pct: Decimal) -> tuple[Decimal, Decimal]:
    """The lowest and highest price within ``band_pct`` % of ``reference``."""
    reach = reference * band_pct / HUNDRED
    return reference - reach, reference + reach


def within_band(reference: Decimal, low: Decimal, high: Decimal, band_pct: Decimal) -> bool:
    """Whether prices from ``low`` to ``high`` all lie within ``band_pct`` % of ``reference``."""
    lowest, highest = band_bounds(reference, band_pct)
    return lowest <= low and high <= highest


def judge(
    reference: Decimal | None,
    held_last: Decimal | None,
    low: Decimal,
    high: Decimal,
    band_pct: Decimal,
) -> Verdict:
    """The rule on bare prices: the verdict on an update spanning ``low`` to ``high``, given
    the symbol's reference and the last price of its held update (None: nothing held)."""
    if band_pct <= ZERO or reference is None:
        return Verdict.PASSED if held_last is None else Verdict.REFUTED
    if within_band(reference, low, high, band_pct):
        return Verdict.PASSED if held_last is None else Verdict.REFUTED
    if held_last is None:
        return Verdict.HELD
    if within_band(held_last, low, high, band_pct):
        return Verdict.CONFIRMED
    return Verdict.REPLACED


def screen_update(screen: PrintScreen, update: PriceUpdate, band_pct: Decimal) -> Screened:
    """The next update of the screen's symbol, judged."""
    held = screen.held
    verdict = judge(
        screen.reference,
        None if held is None else held.last,
        update.bar_low,
        update.bar_high,
        band_pct,
    )
    taken_now = PrintScreen(reference=update.last)
    match verdict:
        case Verdict.PASSED:
            return Screened(taken_now, verdict, (update,))
        case Verdict.REFUTED:
            return Screened(taken_now, verdict, (update,), discarded=held)
        case Verdict.CONFIRMED:
            assert held is not None  # judged against it
            return Screened(taken_now, verdict, (held, update))
        case Verdict.HELD:
            return Screened(PrintScreen(screen.reference, update), verdict, ())
        case Verdict.REPLACED:
            return Screened(PrintScreen(screen.reference, update), verdict, (), discarded=held)


def release(screen: PrintScreen) -> tuple[PrintScreen, PriceUpdate | None]:
    """An operator takes the held update: it becomes the reference. (None: nothing held.)"""
    if screen.held is None:
        return screen, None
    return PrintScreen(reference=screen.held.last), screen.held


def discard(screen: PrintScreen) -> tuple[PrintScreen, PriceUpdate | None]:
    """An operator drops the held update; the reference stays. (None: nothing held.)"""
    return PrintScreen(reference=screen.reference), screen.held
