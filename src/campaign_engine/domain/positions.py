"""One entry of a campaign (a SPRING, SOS or LPS position) and its exits."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from campaign_engine.domain.money import ZERO
from campaign_engine.domain.types import Money, Percent, Price, Quantity, UtcDatetime
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
    shares: Quantity = ZERO
    open_shares: Quantity = ZERO
    pending_exit_shares: Quantity = ZERO
    status: PositionStatus = PositionStatus.PENDING
    approved_at: UtcDatetime
    opened_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    realized_pnl: Money = ZERO
    exits: tuple[ExitRecord, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status is PositionStatus.OPEN

    @property
    def sellable_shares(self) -> Decimal:
        """Open shares no exit order has claimed yet."""
        return self.open_shares - self.pending_exit_shares

    @property
    def unfilled_shares(self) -> Decimal:
        """Approved shares the entry order has not filled yet (0 once filled or cancelled)."""
        return self.planned_shares - self.shares

    @property
    def initial_risk(self) -> Decimal:
        """1R in money: what the position risked at its initial stop."""
        return (self.entry_price - self.initial_stop) * self.shares

    @property
    def open_risk(self) -> Decimal:
        """Money lost if the open shares stop out at the current stop (0 once trailed up)."""
        return max(ZERO, self.entry_price - self.stop) * self.open_shares

    @property
    def reserved_risk(self) -> Decimal:
        """Risk held for the part of the entry that has not filled yet."""
        return (self.entry_price - self.stop) * self.unfilled_shares

    def unrealized_pnl(self, mark: Decimal | None) -> Decimal:
        if mark is None or self.open_shares == ZERO:
            return ZERO
        return (mark - self.entry_price) * self.open_shares
