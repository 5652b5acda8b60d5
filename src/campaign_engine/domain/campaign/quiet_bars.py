"""Quiet bars: which prices cannot change a campaign but its last price, told in O(1) from
levels worked out once per change of its positions or orders.

``on_price`` looks at a bar's low for the invalidation level and every open position's stop,
at its high for every open position's next target, and at its time for resting entry orders
that expire. Most bars of a long play cross none of those: ``on_price`` then only records the
bar as the campaign's last price. A player that holds many campaigns over many bars (the
backtest) asks ``price_levels`` once after each change and ``is_quiet`` for each bar, and
calls ``on_price`` only for the bars that may do something; the live workflow calls
``on_price`` for every bar. Both give the same states, orders and events: that is tested.
"""

from dataclasses import dataclass, replace

from campaign_engine.domain.campaign.prices import entry_order_expiry
from campaign_engine.domain.exits import invalidation_level
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.money import NO_SHARES
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.types import PriceValue, UtcDatetime
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus, Pattern


@dataclass(frozen=True, slots=True)
class PriceLevels:
    """Where a price starts to matter to a campaign (None: nowhere)."""

    invalidation: PriceValue | None  # a low strictly below it invalidates the range
    stop: PriceValue | None  # the highest stop of a position with shares to sell: a low at it
    target: PriceValue | None  # the lowest next target of such a position: a high at it
    expiry: UtcDatetime | None  # the first market time a resting entry order expires at


def price_levels(state: CampaignState, policy: Policy) -> PriceLevels:
    """The levels of ``state`` as ``on_price`` reads them (see the module's docstring)."""
    stops: list[PriceValue] = []
    targets: list[PriceValue] = []
    for p in state.positions:
        if p.is_open and p.sellable_shares > NO_SHARES:
            stops.append(p.stop)
            if p.targets_hit < len(p.targets):
                targets.append(p.targets[p.targets_hit])
    return PriceLevels(
        invalidation=invalidation_level(state.trading_range, state.position_for(Pattern.SPRING)),
        stop=max(stops, default=None),
        target=min(targets, default=None),
        expiry=_first_expiry(state, policy),
    )


def _first_expiry(state: CampaignState, policy: Policy) -> UtcDatetime | None:
    """When ``expired_entries`` would first name an order, as it reckons it."""
    resting = [
        r.order.created_at
        for r in state.orders
        if r.order.purpose is OrderPurpose.ENTRY
        and r.status is OrderStatus.OPEN
        and r.cancel_reason is None
    ]
    return entry_order_expiry(min(resting), state.timeframe, policy) if resting else None


def is_quiet(levels: PriceLevels, update: PriceUpdate) -> bool:
    """Whether ``on_price`` would do nothing with ``update`` (a price it is not stale for)
    but record it as the last price: no invalidation, no stop, no target, no expiry."""
    low = update.bar_low
    if levels.invalidation is not None and low < levels.invalidation:
        return False
    if levels.stop is not None and low <= levels.stop:
        return False
    if levels.target is not None and update.bar_high >= levels.target:
        return False
    return levels.expiry is None or update.as_of < levels.expiry


@dataclass(frozen=True, slots=True)
class LastPrice:
    """A price a campaign took quietly and that its state does not show yet: what
    ``on_price`` would have recorded (its time, and the newest sequence number seen)."""

    update: PriceUpdate
    sequence: int | None

    @classmethod
    def after(cls, state: CampaignState, update: PriceUpdate) -> "LastPrice":
        return cls(update, update.sequence if update.sequence is not None else state.last_sequence)

    def then(self, update: PriceUpdate) -> "LastPrice":
        return LastPrice(update, update.sequence if update.sequence is not None else self.sequence)

    def is_newer(self, update: PriceUpdate) -> bool:
        """Whether ``update`` is newer than this price (``is_stale``'s rule for the last price
        taken: by time, and by sequence when both carry one)."""
        if update.as_of <= self.update.as_of:
            return False
        return update.sequence is None or self.sequence is None or update.sequence > self.sequence

    def recorded(self, state: CampaignState) -> CampaignState:
        """``state`` with this price recorded, as ``on_price`` records a price."""
        return replace(
            state,
            last_price=self.update.last,
            last_price_at=self.update.as_of,
            last_sequence=self.sequence,
        )
