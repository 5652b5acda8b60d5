"""The bad-print screen (SPEC section 11, domain/print_screen.py) of a publisher that is given
updates directly (``campaigns prices``), not through the API's durable intake: in memory, per
symbol, in the order given. It starts from the references the intake's screen has recorded
(``price_screens``), so a symbol already trading is screened from its first update; it records
nothing back (these updates never enter the intake), and what it still holds when the
publisher stops is reported, never published."""

from collections.abc import Mapping
from decimal import Decimal

import structlog

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.print_screen import PrintScreen, Verdict, screen_update
from campaign_engine.domain.types import PriceValue

log = structlog.get_logger("campaign_engine.price_feed.publisher")


class PrintScreens:
    def __init__(
        self, band_pct: Decimal, references: Mapping[str, PriceValue] | None = None
    ) -> None:
        self._band_pct = band_pct
        self._screens = {s: PrintScreen(reference=r) for s, r in (references or {}).items()}
        self.held_count = 0
        self.discarded_count = 0

    def judge(self, update: PriceUpdate) -> tuple[PriceUpdate, ...]:
        """What to take of ``update`` now, in order (none while it is held)."""
        screened = screen_update(
            self._screens.get(update.symbol, PrintScreen()), update, self._band_pct
        )
        self._screens[update.symbol] = screened.screen
        verdict = screened.verdict
        if verdict in (Verdict.HELD, Verdict.REPLACED):
            self.held_count += 1
            log.warning(
                "price_held",
                symbol=update.symbol,
                as_of=update.as_of.isoformat(),
                low=format(update.bar_low, "f"),
                high=format(update.bar_high, "f"),
                reference=format(screened.screen.reference or 0, "f"),
                count=self.held_count,
            )
        if screened.discarded is not None:
            self.discarded_count += 1
            log.warning(
                "price_hold_resolved",
                symbol=update.symbol,
                status="discarded",
                verdict=verdict.value,
                as_of=screened.discarded.as_of.isoformat(),
            )
        return screened.taken

    def held(self) -> list[PriceUpdate]:
        return [s.held for s in self._screens.values() if s.held is not None]
