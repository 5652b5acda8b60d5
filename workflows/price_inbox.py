"""Prices waiting for a campaign run to evaluate them, in the order they arrived.

A price signal is queued, not evaluated at once: the run evaluates each once the effects before
it (orders placed, fills booked) are carried out, one bar at a time. They are not merged here:
which signals a workflow task happens to see together depends on timing, and a task lost with
a killed worker is run again with more of them, so merging would let the same prices decide
differently on a retry than they did the first time (and than a backtest does). The publisher
coalesces upstream, so a campaign gets a few bars a second at most. A price the campaign
cannot use is refused with a warning in the worker's log, never silently. Each bar keeps the
trace it was sent under, so the exits it causes join it (trace_context.py).
"""

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import is_stale
    from campaign_engine.domain.market import PriceUpdate
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.workflows.trace_context import Cause, current, resumed


class PriceInbox:
    def __init__(self) -> None:
        self._bars: deque[tuple[PriceUpdate, Cause]] = deque()

    @property
    def empty(self) -> bool:
        return not self._bars

    def offer(self, state: CampaignState | None, update: PriceUpdate) -> None:
        """Queue ``update`` unless it is for another symbol or older than what the campaign
        has taken already."""
        if state is not None and not state.trades(update.symbol):
            workflow.logger.warning(
                "price for %s refused: campaign trades %s", update.symbol, state.symbol
            )
            return
        if state is not None and is_stale(state, update):
            workflow.logger.warning(
                "price for %s at %s ignored: the campaign has taken %s already",
                update.symbol,
                update.as_of.isoformat(),
                state.last_price_at.isoformat() if state.last_price_at else "a newer one",
            )
            return
        self._bars.append((update, current()))

    @contextmanager
    def taken(self) -> Iterator[PriceUpdate | None]:
        """The oldest bar queued (or None), the block run under the trace it came in."""
        update, cause = self._bars.popleft() if self._bars else (None, None)
        with resumed(cause):
            yield update
