"""What the campaigns did, as the worker's metrics (Temporal's meter: the SDK's Prometheus
endpoint on ``METRICS_PORT``, beside its own ``temporal_...`` metrics). Names and meanings:
docs/monitoring.md.

The counts come from the events each ``carry_out`` saved (``count_events``: which event counts
as what, in one place), so they say what the audit trail says. A save retried after its
transaction committed counts its events again: rare (the activity failed between its commit
and its answer), and the audit trail stays the exact record. Labels take bounded values only:
outcomes, refusal codes, patterns, order purposes, sides, order statuses and the broker's name.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

from temporalio.common import MetricMeter

from campaign_engine.domain.events import (
    AllocationRejected,
    CampaignCreated,
    CampaignEvent,
    EntryApproved,
    EntryFilled,
    ExitExecuted,
    PositionOpened,
)
from campaign_engine.domain.order_events import EntryReleased, ExitOrderFailed
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import OrderPurpose, OrderStatus

DECISIONS = "campaign_decisions"
ENTRIES = "campaign_entries"
EXITS = "campaign_exits"
FILLS = "campaign_fills"
PARTIAL_FILLS = "campaign_partial_fills"
REFUSALS = "campaign_broker_refusals"
CANCELS = "campaign_broker_cancels"

_COUNTERS = {
    DECISIONS: "entry decisions, by outcome and refusal code",
    ENTRIES: "positions opened (an entry order's first fill)",
    EXITS: "exit fills booked, by the exit's purpose",
    FILLS: "fills booked",
    PARTIAL_FILLS: "fills that left their order open for more",
    REFUSALS: "orders the broker rejected",
    CANCELS: "orders that ended before filling in full (cancelled or expired)",
}


@dataclass(frozen=True, slots=True)
class Count:
    metric: str
    labels: dict[str, str]


def count_events(events: Sequence[CampaignEvent], state: CampaignState) -> Iterator[Count]:
    """What each event of a save counts as; ``state`` is the campaign after the save (whether
    a fill left its order open)."""
    for event in events:
        data = event.data
        if isinstance(data, (CampaignCreated, EntryApproved)):
            yield Count(DECISIONS, {"outcome": "approved", "code": "none"})
        elif isinstance(data, AllocationRejected):
            code = data.code.value if data.code is not None else "unknown"
            yield Count(DECISIONS, {"outcome": "rejected", "code": code})
        elif isinstance(data, (PositionOpened, EntryFilled)):
            if isinstance(data, PositionOpened):
                yield Count(ENTRIES, {"pattern": data.pattern.value})
            yield from _fill("entry", _still_open(state, data.position_id, OrderPurpose.ENTRY))
        elif isinstance(data, ExitExecuted):
            yield Count(EXITS, {"purpose": data.purpose.value})
            yield from _fill("exit", _still_open(state, data.position_id, data.purpose))
        elif isinstance(data, (EntryReleased, ExitOrderFailed)):
            side = "entry" if isinstance(data, EntryReleased) else "exit"
            if data.status is OrderStatus.REJECTED:
                yield Count(REFUSALS, {"side": side})
            elif data.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                yield Count(CANCELS, {"side": side, "status": data.status.value})


def _fill(side: str, partial: bool) -> Iterator[Count]:
    yield Count(FILLS, {"side": side})
    if partial:
        yield Count(PARTIAL_FILLS, {"side": side})


def _still_open(state: CampaignState, position_id: UUID, purpose: OrderPurpose) -> bool:
    """Whether the position's newest order of ``purpose`` is still open after the fill."""
    for record in reversed(state.orders):
        if record.order.position_id == position_id and record.order.purpose is purpose:
            return record.status is OrderStatus.OPEN
    return False


class WorkerMetrics:
    """The worker's instruments, made once on its meter (``MetricMeter.noop``: none)."""

    def __init__(self, meter: MetricMeter, *, broker: str) -> None:
        # Every series carries the broker: the worker talks to one.
        meter = meter.with_additional_attributes({"broker": broker})
        self._counters = {
            name: meter.create_counter(name, description) for name, description in _COUNTERS.items()
        }
        self._lock_wait = meter.create_histogram_float(
            "campaign_portfolio_lock_wait_seconds",
            "time an entry waited for the portfolio row's lock",
            "s",
        )

    def saved(self, events: Sequence[CampaignEvent], state: CampaignState) -> None:
        for count in count_events(events, state):
            self._counters[count.metric].add(1, count.labels)

    def lock_waited(self, seconds: float) -> None:
        self._lock_wait.record(max(0.0, seconds))
