"""Committed changes of a campaign run, carried out in the order they were made.

A handler decides through the domain and commits the outcome here at once; the run loop then
carries each one out with one ``carry_out`` activity (persist the snapshot with its events,
then cancel and place its orders) and hands the broker's answer back to be booked. The count
of changes carried out (the revision) guards the snapshots against a stale write.
"""

from collections import deque
from collections.abc import Awaitable, Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome
    from campaign_engine.messages import BrokerOrder, CarryOutRequest
    from campaign_engine.workflows import activities


class ChangeQueue:
    def __init__(self, revision: int) -> None:
        self.revision = revision
        # Each committed change, and whether a caller waits on an update for it.
        self._queue: deque[tuple[Outcome, bool]] = deque()
        self._carrying = False  # a change has left the queue and is being carried out

    @property
    def queued(self) -> bool:
        return bool(self._queue)

    @property
    def busy(self) -> bool:
        """Changes are queued or being carried out."""
        return bool(self._queue) or self._carrying

    def add(self, outcome: Outcome, *, answering: bool) -> None:
        if outcome.changed:
            self._queue.append((outcome, answering))

    async def carry_out(self, book: Callable[[BrokerOrder], Awaitable[None]]) -> None:
        """Carry out every queued change, including those booking adds meanwhile."""
        self._carrying = True
        try:
            while self._queue:
                outcome, answering = self._queue.popleft()
                self.revision += 1
                request = CarryOutRequest(
                    revision=self.revision,
                    state=outcome.state,
                    events=outcome.events,
                    cancellations=outcome.cancellations,
                    orders=outcome.orders,
                )
                carried = await activities.carry_out(request, answering=answering)
                for broker_order in (*carried.cancelled, *carried.orders):
                    await book(broker_order)
        finally:
            self._carrying = False
