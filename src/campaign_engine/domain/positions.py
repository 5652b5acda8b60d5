"""One entry of a campaign (a SPRING, SOS or LPS position) and its exits."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from campaign_engine.domain.money import (
    NO_MONEY,
    NO_PRICE,
    NO_SHARES,
    ZERO,
    difference,
    in_places_of,
    plus,
    to_price_precision,
    total,
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
    ``pending_exit_shares`` what exit orders already claim but have not sold yet.

    Two entry prices: ``entry_price`` is the one planned (the signal's, the entry order's
    limit), which sized the position and prices the risk still reserved for its unfilled rest;
    ``average_entry_price`` is what the shares cost at the prices they filled at
    (``entry_cost`` over ``shares``), which the P&L, the risk taken, R and the breakeven stop
    follow, as the broker's books do."""

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
    # What the filled shares cost, the sum of each entry fill's price times its shares. None in
    # a position recorded before fills were booked at their price: its shares then cost the
    # planned price (the paper broker and the backtest fill at the limit).
    entry_cost: Money | None = None

    @property
    def filled_cost(self) -> MoneyValue:
        """Money paid for the shares filled so far, at their fill prices."""
        if self.entry_cost is None:
            return value_of(shares=self.shares, price=self.entry_price)
        return self.entry_cost

    @property
    def average_entry_price(self) -> PriceValue:
        """The share-weighted price the entry filled at (133 @ 148.50 and 200 @ 148.45 ->
        148.46996997), to the 8 places prices are kept at and written like the planned price
        when that loses nothing; the planned price until a share fills."""
        if self.entry_cost is None or self.shares == ZERO:
            return self.entry_price
        exact = to_price_precision(self.entry_cost / self.shares)
        return in_places_of(exact, like=self.entry_price)

    @property
    def is_open(self) -> bool:
        return self.status is PositionStatus.OPEN

    @property
    def holds_shares(self) -> bool:
        """Some share its entry bought is still held, whatever the status says: the one test
        of "still holds shares" (a position ended by the campaign may hold some until sold)."""
        return self.open_shares > NO_SHARES

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
        """1R in money: what the filled shares risked, from their fill price to the initial
        stop."""
        per_share = difference(high=self.average_entry_price, low=self.initial_stop)
        return value_of(shares=self.shares, price=per_share)

    @property
    def open_risk(self) -> MoneyValue:
        """Money lost if the open shares stop out at the current stop (0 once trailed up):
        (average fill price - stop) x open shares."""
        per_share = max(NO_PRICE, difference(high=self.average_entry_price, low=self.stop))
        return value_of(shares=self.open_shares, price=per_share)

    @property
    def reserved_risk(self) -> MoneyValue:
        """Risk held for the part of the entry that has not filled yet, as it was planned: at
        the planned price, to the current stop; 0 once the stop is trailed above that price
        (never negative: the rest would fill at no risk, and heat must not shrink by it)."""
        per_share = max(NO_PRICE, difference(high=self.entry_price, low=self.stop))
        return value_of(shares=self.unfilled_shares, price=per_share)

    def unrealized_pnl(self, mark: PriceValue | None) -> MoneyValue:
        if mark is None or not self.holds_shares:
            return NO_MONEY
        per_share = difference(high=mark, low=self.average_entry_price)
        return value_of(shares=self.open_shares, price=per_share)

    def exit_pnl(self, *, quantity: QuantityValue, price: PriceValue) -> MoneyValue:
        """Realized P&L of selling ``quantity`` at ``price``: against the average fill price,
        and, when the sale leaves no share held, whatever makes the position's whole realized
        P&L what the broker's books give (exit proceeds - entry cost), so the 8-place rounding
        of the average never leaves a residue."""
        pnl = value_of(shares=quantity, price=difference(high=price, low=self.average_entry_price))
        if quantity < self.open_shares:
            return pnl
        proceeds = total(value_of(shares=e.quantity, price=e.price) for e in self.exits)
        proceeds = plus(proceeds, value_of(shares=quantity, price=price))
        books = difference(high=proceeds, low=self.filled_cost)
        residue = difference(high=books, low=plus(self.realized_pnl, pnl))
        return pnl if residue == ZERO else plus(pnl, residue)

    def released(self, now: UtcDatetime) -> "Position":
        """The position once its entry will fill no further (cancelled, expired or refused):
        the shares it has are all it will have, and it is closed if it holds none."""
        nothing_held = not self.holds_shares
        return replace(
            self,
            planned_shares=self.shares,
            status=PositionStatus.CLOSED if nothing_held else self.status,
            closed_at=now if nothing_held else self.closed_at,
        )


def any_held(positions: Iterable[Position]) -> bool:
    """Some position still holds shares: a campaign holding ``positions`` is not flat."""
    return any(p.holds_shares for p in positions)


def held_shares(positions: Iterable[Position]) -> QuantityValue:
    """Every share still held, summed over ``positions``."""
    return total(p.open_shares for p in positions)
