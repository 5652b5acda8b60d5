"""The trading state in a play (SPEC section 11), assessed as live assesses it: after each
campaign's stored change, on marked equity (starting equity, every campaign's realized P&L,
each open campaign's unrealized P&L at its own last price), when a loss limit is set or the
campaign is losing. A halt lasts to the end of the play: no operator lifts it there."""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from campaign_engine.domain.events import TradingStateChanged
from campaign_engine.domain.limits import PortfolioView
from campaign_engine.domain.money import ZERO, plus, total
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.trading_state import TradingRecord, assess, needs_assessment
from campaign_engine.domain.types import MoneyValue
from campaign_engine.domain.vocabulary import TradingState


@dataclass
class PlayTrading:
    policy: Policy
    record: TradingRecord = field(default_factory=TradingRecord)
    changes: list[tuple[datetime, TradingStateChanged]] = field(default_factory=list)
    _unrealized: dict[str, MoneyValue] = field(default_factory=dict)

    def stored(self, state: CampaignState, realized_pnl: Callable[[], MoneyValue]) -> None:
        """``state`` was stored; ``realized_pnl`` sums every campaign's, after it (asked only
        when the assessment needs it: with no limit set and no loss, a store costs a sum of
        the campaign's positions)."""
        if not state.exists:
            return
        unrealized = state.unrealized_pnl
        if state.is_closed:
            self._unrealized.pop(state.campaign_id, None)
        else:
            self._unrealized[state.campaign_id] = unrealized
        losing = plus(state.realized_pnl, unrealized) < ZERO
        market_time = state.market_time
        if not (self.policy.limits_trading or losing) or market_time is None:
            return
        open_pnl = total(self._unrealized.values())
        marked = plus(self.policy.starting_equity, realized_pnl(), open_pnl)
        if not needs_assessment(self.policy, marked):
            return
        self.record, change = assess(self.record, marked, market_time, self.policy)
        if change is not None:
            self.changes.append((market_time, change))

    def view(self, portfolio: PortfolioView) -> PortfolioView:
        """``portfolio`` with the trading state, as an entry decision sees it."""
        if self.record.state is TradingState.ACTIVE:
            return portfolio
        return replace(
            portfolio, trading_state=self.record.state, trading_reason=self.record.reason
        )
