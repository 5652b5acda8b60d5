"""One entry of a campaign (a SPRING, SOS or LPS position) and its exits."""

from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from campaign_engine.domain.money import (
    NO_MONEY,
    NO_PRICE,
    NO_SHARES,
    ZERO,
    difference,
    value_of,
)
from campaign_engine.domain.types import (
    Money,
    MoneyValue,
    Percent,
    Price,
    PriceValue,
    Quantity,
    QuantityValue,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import OrderPurpose, Pattern, PositionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitRecord:
    purpose: OrderPurpose
    quantity: Quantity
    price: Price
    realized_pnl: Money
    at: UtcDatetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A long position. Shares are counted from fills, never from intentions:
    ``shares`` is what the entry filled, ``open_shares`` what is still held, and
    ``pending_exit_shares`` what exit orders already claim but have not sold yet."""

    id: UUID
    campaign_id: str
    signal_id: UUID
    pattern: Pattern
    symbol: str
    entry_price: Price
    initial_stop: Price
    stop: Price
    targets: tuple[Price, ...]
    targets_hit: int = 0
    weight: Decimal
    risk_pct: Percent
    planned_shares: Quantity
    shares: Quantity = NO_SHARES
    open_shares: Quantity = NO_SHARES
    pending_exit_shares: Quantity = NO_SHARES
    status: PositionStatus = PositionStatus.PENDING
    approved_at: UtcDatetime
    opened_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    realized_pnl: Money = NO_MONEY
    exits: tuple[ExitRecord, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status is PositionStatus.OPEN

    @property
    def sellable_shares(self) -> QuantityValue:
        """Open shares no exit order has claimed yet."""
        return difference(high=self.open_shares, low=self.pending_exit_shares)

    @property
    def unfilled_shares(self) -> QuantityValue:
        """Approved shares the entry order has not filled yet (0 once filled or cancelled)."""
        return difference(high=self.planned_shares, low=self.shares)

    @property
    def initial_risk(self) -> MoneyValue:
        """1R in money: what the position risked at its initial stop."""
        per_share = difference(high=self.entry_price, low=self.initial_stop)
        return value_of(shares=self.shares, price=per_share)

    @property
    def open_risk(self) -> MoneyValue:
        """Money lost if the open shares stop out at the current stop (0 once trailed up)."""
        per_share = max(NO_PRICE, difference(high=self.entry_price, low=self.stop))
        return value_of(shares=self.open_shares, price=per_share)

    @property
    def reserved_risk(self) -> MoneyValue:
        """Risk held for the part of the entry that has not filled yet."""
        per_share = difference(high=self.entry_price, low=self.stop)
        return value_of(shares=self.unfilled_shares, price=per_share)

    def unrealized_pnl(self, mark: PriceValue | None) -> MoneyValue:
        if mark is None or self.open_shares == ZERO:
            return NO_MONEY
        per_share = difference(high=mark, low=self.entry_price)
        return value_of(shares=self.open_shares, price=per_share)

    def released(self, now: UtcDatetime) -> "Position":
        """The position once its entry will fill no further (cancelled, expired or refused):
        the shares it has are all it will have, and it is closed if it holds none."""
        nothing_held = self.open_shares == NO_SHARES
        return replace(
            self,
            planned_shares=self.shares,
            status=PositionStatus.CLOSED if nothing_held else self.status,
            closed_at=now if nothing_held else self.closed_at,
        )
