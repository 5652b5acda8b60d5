"""The closed sets of names the rules speak in (SPEC sections 1, 3, 4, 7)."""

from enum import StrEnum


class Pattern(StrEnum):
    SPRING = "SPRING"
    SOS = "SOS"
    LPS = "LPS"
    UTAD = "UTAD"  # short side: scored by the prioritiser, never entered by a long campaign


LONG_SEQUENCE: tuple[Pattern, ...] = (Pattern.SPRING, Pattern.SOS, Pattern.LPS)
"""The BMAD entries of a long campaign, in the only order they may be taken."""

BEFORE: dict[Pattern, tuple[Pattern, ...]] = {
    p: LONG_SEQUENCE[: LONG_SEQUENCE.index(p)] for p in LONG_SEQUENCE
}
"""The entries that come before each one in a campaign."""

AFTER: dict[Pattern, tuple[Pattern, ...]] = {
    p: LONG_SEQUENCE[LONG_SEQUENCE.index(p) + 1 :] for p in LONG_SEQUENCE
}
"""The entries that come after each one in a campaign."""


class CampaignStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MARKUP = "MARKUP"
    COMPLETED = "COMPLETED"
    INVALIDATED = "INVALIDATED"
    QUARANTINED = "QUARANTINED"
    """A change could not be carried out for good: entries refused, exits still run, until an
    operator invalidates it (or its positions close)."""

    @property
    def is_terminal(self) -> bool:
        return self in (CampaignStatus.COMPLETED, CampaignStatus.INVALIDATED)


class CampaignPhase(StrEnum):
    ACCUMULATION = "ACCUMULATION"
    MARKUP = "MARKUP"


class PositionStatus(StrEnum):
    PENDING = "PENDING"  # approved, entry order not filled yet: its risk is reserved
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"


class OrderPurpose(StrEnum):
    ENTRY = "ENTRY"
    TARGET_1 = "TARGET_1"
    TARGET_2 = "TARGET_2"
    TARGET_3 = "TARGET_3"
    STOP = "STOP"
    INVALIDATION = "INVALIDATION"
    # Shares a broker report showed the campaign holds after it ended (an entry that filled
    # after the campaign gave up on it): sold at once.
    RECONCILE = "RECONCILE"
    # Shares sold at the broker by someone else (by hand) while the engine was not looking:
    # booked from reconciliation, never placed by the engine.
    BY_HAND = "BY_HAND"

    @classmethod
    def target(cls, index: int) -> "OrderPurpose":
        """The purpose of the ladder leg at ``index`` (0 for the first target)."""
        return (cls.TARGET_1, cls.TARGET_2, cls.TARGET_3)[index]


class OrderStatus(StrEnum):
    """An order's state at the broker. OPEN is the only one that may still fill; an order that
    ends before it fills in full is CANCELLED (asked for), EXPIRED (its time ran out) or
    REJECTED (refused by the broker), keeping the fills it had."""

    OPEN = "OPEN"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self is not OrderStatus.OPEN


class EventType(StrEnum):
    CAMPAIGN_CREATED = "CampaignCreated"
    CAMPAIGN_UPDATED = "CampaignUpdated"
    POSITION_OPENED = "PositionOpened"
    EXIT_EXECUTED = "ExitExecuted"
    CAMPAIGN_INVALIDATED = "CampaignInvalidated"
    CAMPAIGN_COMPLETED = "CampaignCompleted"
    ALLOCATION_REJECTED = "AllocationRejected"
    PORTFOLIO_HEAT_ALERT = "PortfolioHeatAlert"
    TRADING_STATE_CHANGED = "TradingStateChanged"


class HeatAlertLevel(StrEnum):
    NORMAL = "NORMAL"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
    EXCEEDED = "EXCEEDED"

    @property
    def severity(self) -> int:
        return _HEAT_SEVERITY[self]


_HEAT_SEVERITY = {level: rank for rank, level in enumerate(HeatAlertLevel)}


class TradingState(StrEnum):
    """The portfolio's trading state (SPEC section 11): ACTIVE takes entries; REDUCING and
    HALTED refuse them (``TRADING_HALTED``) while exits and operator commands still run.
    HALTED is entered by a loss limit or by equity at or below zero; only an operator leaves
    it."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def takes_entries(self) -> bool:
        return self is TradingState.ACTIVE

    @property
    def gauge(self) -> int:
        """The state as a metric's value: 0 ACTIVE, 1 REDUCING, 2 HALTED."""
        return _TRADING_GAUGE[self]


_TRADING_GAUGE = {state: rank for rank, state in enumerate(TradingState)}


class RejectionCode(StrEnum):
    """Why an entry was refused; the order of SPEC section 3 is the order they are checked in."""

    SHORT_NOT_SUPPORTED = "SHORT_NOT_SUPPORTED"
    SIGNAL_MISMATCH = "SIGNAL_MISMATCH"
    RANGE_CONFLICT = "RANGE_CONFLICT"
    NO_TARGET = "NO_TARGET"
    CAMPAIGN_CLOSED = "CAMPAIGN_CLOSED"
    CAMPAIGN_QUARANTINED = "CAMPAIGN_QUARANTINED"
    DUPLICATE_PATTERN = "DUPLICATE_PATTERN"
    OUT_OF_SEQUENCE = "OUT_OF_SEQUENCE"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    CAMPAIGN_BUDGET = "CAMPAIGN_BUDGET"
    PORTFOLIO_HEAT = "PORTFOLIO_HEAT"
    CORRELATED_RISK = "CORRELATED_RISK"
    POSITION_TOO_SMALL = "POSITION_TOO_SMALL"
    POSITION_TOO_LARGE = "POSITION_TOO_LARGE"  # more than MAX_SHARES (domain.types)
    TRADING_HALTED = "TRADING_HALTED"  # the portfolio is HALTED or REDUCING (SPEC section 11)
    BROKER_REJECTED = "BROKER_REJECTED"  # approved, then refused by the broker (its reason)
