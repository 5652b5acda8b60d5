"""Exit rules: default targets, the 50/30/rest ladder, trailing stops, invalidation and the
gap-aware fill prices of the paper model (SPEC section 5)."""

from dataclasses import dataclass, replace
from decimal import Decimal

from campaign_engine.domain.market import PriceUpdate, TradingRange
from campaign_engine.domain.money import (
    ZERO,
    floor_to_step,
    in_places_of,
    plus,
    scaled,
)
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.positions import Position
from campaign_engine.domain.types import PriceValue, QuantityValue
from campaign_engine.domain.vocabulary import OrderPurpose

_ONE_AND_HALF = Decimal("1.5")
_TWO = Decimal(2)
MAX_TARGETS = 3


def default_targets(entry_price: PriceValue, trading_range: TradingRange) -> tuple[PriceValue, ...]:
    """The first three of [ice, jump, ice + 1.5M, ice + 2M] strictly above the entry."""
    ice, move = trading_range.ice, trading_range.measured_move
    extensions = (
        in_places_of(plus(ice, scaled(move, by=factor)), like=ice)
        for factor in (_ONE_AND_HALF, _TWO)
    )
    levels = (ice, trading_range.jump, *extensions)
    return tuple(level for level in levels if level > entry_price)[:MAX_TARGETS]


def has_default_target(entry_price: PriceValue, trading_range: TradingRange) -> bool:
    """Whether any default target lies above the entry (the highest is ice + 2M)."""
    return entry_price < trading_range.ice + _TWO * trading_range.measured_move


def invalidation_level(
    trading_range: TradingRange, spring_position: Position | None
) -> PriceValue | None:
    """The range's spring low, else the SPRING entry's initial stop, else none."""
    if trading_range.spring_low is not None:
        return trading_range.spring_low
    return spring_position.initial_stop if spring_position is not None else None


def is_invalidated(level: PriceValue | None, update: PriceUpdate) -> bool:
    """A breach is strictly below the level."""
    return level is not None and update.bar_low < level


def is_stopped(position: Position, update: PriceUpdate) -> bool:
    return update.bar_low <= position.stop


def downside_fill_price(level: PriceValue, update: PriceUpdate) -> PriceValue:
    """A stop or invalidation fills at the level, or at the open of a bar that gapped
    through it; a tick fills at its price."""
    return min(level, update.bar_open) if update.is_bar else update.last


def upside_fill_price(level: PriceValue, update: PriceUpdate) -> PriceValue:
    """A target fills at the level, or at the open of a bar that gapped above it; a tick
    fills at its price."""
    return max(level, update.bar_open) if update.is_bar else update.last


def ladder_quantity(position: Position, index: int, policy: Policy) -> QuantityValue:
    """Shares the leg at ``index`` sells: a fraction of the original size for every target
    but the last, which sells the rest; never more than is still sellable."""
    sellable = position.sellable_shares
    is_last = index == len(position.targets) - 1 or index >= len(policy.exit_fractions)
    if is_last:
        return sellable
    fraction = policy.exit_fractions[index]
    leg = floor_to_step(scaled(position.shares, by=fraction), step=policy.quantity_step)
    return min(leg, sellable)


def trailed_stop(position: Position, targets_hit: int) -> PriceValue:
    """After t1 the stop goes to breakeven (the average price the entry filled at), after t2
    to t1; it only ever moves up."""
    if targets_hit == 1:
        return max(position.stop, position.average_entry_price)
    if targets_hit == 2:
        return max(position.stop, position.targets[0])
    return position.stop


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitIntent:
    purpose: OrderPurpose
    quantity: QuantityValue
    price: PriceValue
    level: PriceValue


@dataclass(frozen=True, slots=True)
class TargetsReached:
    position: Position
    exits: tuple[ExitIntent, ...]


def reach_targets(position: Position, update: PriceUpdate, policy: Policy) -> TargetsReached:
    """Every target the update's high reaches, in order: sell each leg and trail the stop.
    A leg that rounds to zero shares still counts as hit and still trails the stop."""
    exits: list[ExitIntent] = []
    hit = position.targets_hit
    current = position
    while hit < len(position.targets) and update.bar_high >= position.targets[hit]:
        quantity = ladder_quantity(current, hit, policy)
        if quantity > ZERO:
            price = upside_fill_price(position.targets[hit], update)  # gap-aware
            level = position.targets[hit]
            exits.append(
                ExitIntent(
                    purpose=OrderPurpose.target(hit), quantity=quantity, price=price, level=level
                )
            )
        hit += 1
        current = replace(
            current,
            targets_hit=hit,
            stop=trailed_stop(current, hit),
            pending_exit_shares=plus(current.pending_exit_shares, quantity),
        )
    return TargetsReached(current, tuple(exits))
