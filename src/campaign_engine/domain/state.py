"""CampaignState: everything a campaign is, as one immutable value.

It is created blank for a trading range and becomes a campaign with its first approved entry
(``exists``); until then it only remembers the decisions it refused, so that the same
``signal_id`` always gets the same answer.
"""

from dataclasses import dataclass
from uuid import UUID, uuid5

from campaign_engine.domain.market import TradingRange
from campaign_engine.domain.money import NO_PERCENT, total
from campaign_engine.domain.orders import OrderRecord
from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.positions import Position, any_held, held_shares
from campaign_engine.domain.types import MoneyValue, Percent, Price, QuantityValue, UtcDatetime
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    OrderStatus,
    Pattern,
    PositionStatus,
)

_CAMPAIGN_NAMESPACE = UUID("0b7e4c52-9d0e-4a4b-8f4e-5a6c1d2e3f40")


def campaign_uuid(trading_range_id: UUID) -> UUID:
    """One campaign per trading range, so its UUID is derived from the range's."""
    return uuid5(_CAMPAIGN_NAMESPACE, str(trading_range_id))


def position_uuid(campaign: UUID, pattern: Pattern) -> UUID:
    """One position per pattern per campaign."""
    return uuid5(campaign, pattern.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignState:
    id: UUID
    campaign_id: str
    symbol: str
    timeframe: str
    trading_range: TradingRange
    status: CampaignStatus = CampaignStatus.ACTIVE
    phase: CampaignPhase = CampaignPhase.ACCUMULATION
    version: int = 0
    total_allocation: Percent = NO_PERCENT
    positions: tuple[Position, ...] = ()
    orders: tuple[OrderRecord, ...] = ()
    plans: tuple[AllocationPlan, ...] = ()
    last_price: Price | None = None
    last_price_at: UtcDatetime | None = None
    last_sequence: int | None = None
    invalidation_reason: str | None = None
    quarantine_reason: str | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None

    @classmethod
    def for_range(cls, trading_range: TradingRange) -> "CampaignState":
        return cls(
            id=campaign_uuid(trading_range.id),
            campaign_id=trading_range.campaign_id,
            symbol=trading_range.symbol,
            timeframe=trading_range.timeframe,
            trading_range=trading_range,
        )

    @property
    def exists(self) -> bool:
        """A campaign exists from its first approved entry on."""
        return self.created_at is not None

    @property
    def is_closed(self) -> bool:
        return self.status.is_terminal

    def trades(self, symbol: str) -> bool:
        """``symbol`` (a ``Symbol``, normalised at the edge) is the one this campaign trades:
        the check of a price update against the campaign it is sent to."""
        return symbol == self.symbol

    def plan_for(self, signal_id: UUID) -> AllocationPlan | None:
        return next((p for p in self.plans if p.signal_id == signal_id), None)

    def position_for(self, pattern: Pattern) -> Position | None:
        return next((p for p in self.positions if p.pattern is pattern), None)

    @property
    def taken_patterns(self) -> frozenset[Pattern]:
        """Patterns approved in this campaign, filled or still pending."""
        return frozenset(p.pattern for p in self.positions)

    def order(self, client_order_id: str) -> OrderRecord | None:
        return next((o for o in self.orders if o.order.client_order_id == client_order_id), None)

    @property
    def market_time(self) -> UtcDatetime | None:
        """The campaign's clock: the newest market time it has acted on (a signal's, a bar's
        or a fill's), never a server's. An operator's command is stamped with it, so a campaign
        replayed from past data reads the same as it did live."""
        times = [t for t in (self.updated_at, self.last_price_at) if t is not None]
        return max(times) if times else None

    @property
    def open_order_ids(self) -> tuple[str, ...]:
        """Orders placed and not yet filled or cancelled: their fills are still to come."""
        return tuple(r.order.client_order_id for r in self.orders if r.status is OrderStatus.OPEN)

    @property
    def open_risk(self) -> MoneyValue:
        return total(p.open_risk for p in self.positions)

    @property
    def holds_shares(self) -> bool:
        """Some position still holds shares (see ``Position.holds_shares``)."""
        return any_held(self.positions)

    @property
    def held_shares(self) -> QuantityValue:
        return held_shares(self.positions)

    @property
    def realized_pnl(self) -> MoneyValue:
        return total(p.realized_pnl for p in self.positions)

    @property
    def reserved_risk(self) -> MoneyValue:
        return total(p.reserved_risk for p in self.positions)

    @property
    def unrealized_pnl(self) -> MoneyValue:
        """Open shares marked at the last price the campaign took (nothing before one)."""
        return total(p.unrealized_pnl(self.last_price) for p in self.positions)

    @property
    def all_positions_closed(self) -> bool:
        return bool(self.positions) and all(
            p.status is PositionStatus.CLOSED for p in self.positions
        )
