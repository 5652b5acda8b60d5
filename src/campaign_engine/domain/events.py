"""Events a campaign announces (SPEC section 7): one frozen dataclass per kind of change, with
a typed payload, inside one envelope (``CampaignEvent``) that carries the derived event id, the
campaign's version, a UTC timestamp and the correlation id of the signal or price update that
caused it.

Each kind goes out under one of SPEC's event types (``TYPE``): several kinds of change are all
a ``CampaignUpdated``. ``kind`` tells the kinds apart, also after a round trip through JSON
(the union below is discriminated on it).
"""

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from campaign_engine.domain.order_events import (
    BrokerDifference,
    EntryReleased,
    ExitOrderFailed,
    OrderCancelRequested,
)
from campaign_engine.domain.types import (
    MoneyValue,
    PercentValue,
    PriceValue,
    QuantityValue,
    UtcDatetime,
)
from campaign_engine.domain.vocabulary import (
    CampaignPhase,
    CampaignStatus,
    EventType,
    HeatAlertLevel,
    OrderPurpose,
    Pattern,
    RejectionCode,
    TradingState,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLeg:
    """An order an event speaks of: placed (exits) or cancelled (the unfilled rest)."""

    client_order_id: str
    quantity: QuantityValue


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMove:
    """A position's stop trailed by a target: to breakeven at t1, to t1 at t2."""

    pattern: Pattern
    previous_stop: PriceValue
    stop: PriceValue


# --- what several kinds share --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _EntryTerms:
    """An approved entry: its pending position and the campaign's allocation after it."""

    signal_id: UUID
    pattern: Pattern
    shares: QuantityValue
    entry_price: PriceValue
    stop_loss: PriceValue
    risk_pct: PercentValue
    weight: Decimal
    total_allocation: PercentValue


@dataclass(frozen=True, slots=True, kw_only=True)
class _FillTerms:
    """Shares of an entry order filled at ``price`` (the broker's), and the position's exits
    as they stand. ``planned_price`` is the entry order's limit (the signal's price) and
    ``average_price`` what all the position's shares cost on average after this fill; both
    are None in events recorded before fills were booked at their price."""

    position_id: UUID
    pattern: Pattern
    shares: QuantityValue
    price: PriceValue
    stop: PriceValue
    targets: tuple[PriceValue, ...]
    planned_price: PriceValue | None = None
    average_price: PriceValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _FinalMetrics:
    """A campaign whose every position is closed: what it made, in money and in R."""

    realized_pnl: MoneyValue
    r_multiple: Decimal | None
    total_allocation: PercentValue
    positions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _PriceReaction:
    """What one price update changed: the stops it trailed (and the exits it triggered)."""

    price: PriceValue
    stops_moved: tuple[StopMove, ...] = ()


# --- the kinds --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignCreated(_EntryTerms):
    """The first approved entry creates the campaign."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_CREATED
    kind: Literal["CampaignCreated"] = "CampaignCreated"
    symbol: str
    trading_range_id: UUID

    @classmethod
    def by(cls, entry: "EntryApproved", symbol: str, trading_range_id: UUID) -> "CampaignCreated":
        """The first approval announced as the campaign's creation: the same terms, and what
        the campaign trades."""
        terms = {f.name: getattr(entry, f.name) for f in fields(_EntryTerms)}
        return cls(**terms, symbol=symbol, trading_range_id=trading_range_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryApproved(_EntryTerms):
    """A later entry approved: its position waits for the fill."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["EntryApproved"] = "EntryApproved"


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRejected:
    """An entry refused; the campaign is unchanged (it may not even exist)."""

    TYPE: ClassVar[EventType] = EventType.ALLOCATION_REJECTED
    kind: Literal["AllocationRejected"] = "AllocationRejected"
    signal_id: UUID
    pattern: Pattern
    code: RejectionCode | None
    reason: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioHeatAlert:
    """An approval raised the portfolio's heat into a higher alert level."""

    TYPE: ClassVar[EventType] = EventType.PORTFOLIO_HEAT_ALERT
    kind: Literal["PortfolioHeatAlert"] = "PortfolioHeatAlert"
    level: HeatAlertLevel
    previous: HeatAlertLevel
    heat_pct: PercentValue


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged:
    """The portfolio's trading state changed (SPEC section 11): a loss limit or equity at or
    below zero halted it, or an operator set it. Recorded under the campaign id
    ``portfolio``."""

    TYPE: ClassVar[EventType] = EventType.TRADING_STATE_CHANGED
    kind: Literal["TradingStateChanged"] = "TradingStateChanged"
    previous: TradingState
    state: TradingState
    reason: str
    equity: MoneyValue  # marked equity when it changed; may be negative
    by: Literal["limit", "operator"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOpened(_FillTerms):
    """The first fill of an entry order opens its position."""

    TYPE: ClassVar[EventType] = EventType.POSITION_OPENED
    kind: Literal["PositionOpened"] = "PositionOpened"


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryFilled(_FillTerms):
    """A later part of an entry order filled: the open position grows."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["EntryFilled"] = "EntryFilled"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged:
    """The campaign's status moved: by an entry's fill (the first SOS or LPS) or by an
    operator."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["StatusChanged"] = "StatusChanged"
    status: CampaignStatus
    phase: CampaignPhase
    by: Literal["fill", "operator"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitsTriggered(_PriceReaction):
    """A price reached stops or targets: the exit orders placed for them."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["ExitsTriggered"] = "ExitsTriggered"
    exit_orders: tuple[OrderLeg, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StopsTrailed(_PriceReaction):
    """A price moved stops without selling anything."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["StopsTrailed"] = "StopsTrailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitExecuted:
    """An exit order (target, stop or invalidation) filled, in whole or in part."""

    TYPE: ClassVar[EventType] = EventType.EXIT_EXECUTED
    kind: Literal["ExitExecuted"] = "ExitExecuted"
    position_id: UUID
    pattern: Pattern
    purpose: OrderPurpose
    quantity: QuantityValue
    price: PriceValue
    realized_pnl: MoneyValue
    open_shares: QuantityValue


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignInvalidated:
    """Invalidated (level breached, operator, orchestrator): every open share exits at once
    and the unfilled rest of every entry is cancelled."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_INVALIDATED
    kind: Literal["CampaignInvalidated"] = "CampaignInvalidated"
    reason: str
    exit_orders: tuple[OrderLeg, ...]
    cancelled_orders: tuple[OrderLeg, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignQuarantined:
    """A change of the campaign could not be carried out, and no retry could cure it (a value
    the database refused): the change is dropped, entries are refused and the unfilled rest
    of every entry cancelled; exits still run. An operator reads ``reason`` and invalidates."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["CampaignQuarantined"] = "CampaignQuarantined"
    reason: str
    cancelled_orders: tuple[OrderLeg, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AllPositionsExited(_FinalMetrics):
    """An invalidated campaign's last exit filled: it stays INVALIDATED, now closed."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["AllPositionsExited"] = "AllPositionsExited"


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignCompleted(_FinalMetrics):
    """Every position closed by targets or stops: COMPLETED, with the final metrics."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_COMPLETED
    kind: Literal["CampaignCompleted"] = "CampaignCompleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlatteningRetried:
    """A campaign that has ended still holds shares its exits could not sell (the broker
    refused them and their attempts were used up): they are offered again, on a later price
    or after the backoff, until the campaign is flat. Announced at every try."""

    TYPE: ClassVar[EventType] = EventType.CAMPAIGN_UPDATED
    kind: Literal["FlatteningRetried"] = "FlatteningRetried"
    trigger: Literal["price", "backoff"]
    price: PriceValue
    held: QuantityValue
    exit_orders: tuple[OrderLeg, ...]


EventData = Annotated[
    CampaignCreated
    | EntryApproved
    | AllocationRejected
    | PortfolioHeatAlert
    | TradingStateChanged
    | PositionOpened
    | EntryFilled
    | StatusChanged
    | ExitsTriggered
    | StopsTrailed
    | ExitExecuted
    | CampaignInvalidated
    | CampaignQuarantined
    | AllPositionsExited
    | CampaignCompleted
    | OrderCancelRequested
    | EntryReleased
    | ExitOrderFailed
    | BrokerDifference
    | FlatteningRetried,
    Field(discriminator="kind"),
]
"""Every kind of event, told apart by ``kind``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CampaignEvent:
    """One announced change: the envelope SPEC section 7 asks for around its typed ``data``."""

    event_id: str
    campaign_id: str
    version: int
    occurred_at: UtcDatetime
    correlation_id: str
    data: EventData

    @property
    def type(self) -> EventType:
        """SPEC's name for it on the wire."""
        return self.data.TYPE


def make_event(
    data: EventData,
    *,
    campaign_id: str,
    version: int,
    occurred_at: UtcDatetime,
    correlation_id: str,
    sequence: int,
) -> CampaignEvent:
    """The event id is derived, not random: replaying a decision yields the same ids, so the
    audit trail can refuse a second copy of an event by its key. ``sequence`` tells apart the
    events one change raises."""
    return CampaignEvent(
        event_id=f"{campaign_id}:v{version}:{correlation_id}:{sequence}",
        campaign_id=campaign_id,
        version=version,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        data=data,
    )
