"""The campaigns open in a play and what the portfolio reads of them: each one's exposure,
realized P&L and positions as of its last stored state, and the sums over all of them, kept
until a stored state changes one (most instants of a long play change none)."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from campaign_engine.domain.campaign import exposure_of
from campaign_engine.domain.limits import Exposure, PortfolioView
from campaign_engine.domain.money import NO_MONEY, plus, total
from campaign_engine.domain.positions import Position
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import MoneyValue, PriceValue


@dataclass
class OpenBook:
    starting_equity: MoneyValue
    # The campaigns open on each symbol, in creation order, and the P&L of those closed.
    by_symbol: dict[str, dict[str, None]] = field(default_factory=dict)
    symbols: set[str] = field(default_factory=set)  # those with a campaign open
    closed_realized: MoneyValue = NO_MONEY
    _exposures: dict[str, Exposure] = field(default_factory=dict)
    _realized: dict[str, MoneyValue] = field(default_factory=dict)
    _positions: dict[str, tuple[str, tuple[Position, ...]]] = field(default_factory=dict)
    # The sums, None until asked for again after a change.
    _realized_pnl: MoneyValue | None = None
    _view: PortfolioView | None = None
    _held: list[tuple[str, Position]] | None = None

    def ids(self) -> Iterator[str]:
        """The open campaigns' ids: by symbol (in the order symbols first had one), then in
        creation order."""
        return (cid for ids in self.by_symbol.values() for cid in ids)

    def keep(self, previous: CampaignState | None, state: CampaignState) -> None:
        """``state`` is now its campaign's (``previous`` was)."""
        if not state.exists:
            return
        campaign_id = state.campaign_id
        on_symbol = self.by_symbol.setdefault(state.symbol, {})
        if not state.is_closed:
            on_symbol[campaign_id] = None
            self.symbols.add(state.symbol)
            # Exposure, realized P&L and unrealized P&L are sums over the positions: the same
            # positions (most changes are orders or the last price) leave them as they were.
            if (
                previous is None
                or previous.positions is not state.positions
                or campaign_id not in self._exposures
            ):
                self._exposures[campaign_id] = exposure_of(state)
                self._realized[campaign_id] = state.realized_pnl
                self._positions[campaign_id] = (state.symbol, state.positions)
                self._changed()
        elif campaign_id in on_symbol:  # it has just closed
            del on_symbol[campaign_id]
            if not on_symbol:
                self.symbols.discard(state.symbol)
            del self._exposures[campaign_id], self._realized[campaign_id]
            del self._positions[campaign_id]
            self.closed_realized = plus(self.closed_realized, state.realized_pnl)
            self._changed()

    def _changed(self) -> None:
        self._realized_pnl = self._view = self._held = None

    def realized_pnl(self) -> MoneyValue:
        if self._realized_pnl is None:
            realized = self._realized
            self._realized_pnl = plus(self.closed_realized, *(realized[c] for c in self.ids()))
        return self._realized_pnl

    def portfolio(self) -> PortfolioView:
        """What an entry decision sees, as live: every open campaign's exposure, and equity
        = starting equity + realized P&L (closed campaigns have no exposure left)."""
        if self._view is None:
            exposures = self._exposures
            self._view = PortfolioView.of(
                plus(self.starting_equity, self.realized_pnl()),
                (exposures[cid] for cid in self.ids()),
            )
        return self._view

    def unrealized_pnl(self, marks: Mapping[str, PriceValue]) -> MoneyValue:
        """Every open campaign's positions marked at ``marks``."""
        if self._held is None:
            positions = self._positions
            self._held = [
                (symbol, p)
                for cid in self.ids()
                for symbol, held in (positions[cid],)
                for p in held
            ]
        return total(p.unrealized_pnl(marks.get(symbol)) for symbol, p in self._held)
