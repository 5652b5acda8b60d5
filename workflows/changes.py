"""Committed changes of a campaign run, carried out in the order they were made.

A handler decides through the domain and commits the outcome here at once; the run loop then
carries each one out with one ``carry_out`` activity (persist the snapshot with its events,
then cancel and place its orders) and hands the broker's answer back to be booked. The count
of changes carried out (the revision) guards the snapshots against a stale write.

A change no retry can carry out (its activity fails with ``CHANGE_REFUSED``) is dropped with
every change queued after it, since those were decided on top of it: ``ChangeRefused`` tells
the run, which quarantines the campaign from ``carried``, the last state carried out.

Each change is carried out, and its broker answer booked, under the trace of the message that
caused it (trace_context.py): the fills booked then are changes of that message too.
"""

from collections import deque
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import CHANGE_REFUSED, BrokerOrder, CarryOutRequest
    from campaign_engine.workflows import activities
    from campaign_engine.workflows.trace_context import Cause, current, resumed


class ChangeRefused(Exception):
    """A change that cannot be carried out, ever; the queue behind it is dropped."""

    def __init__(self, reason: str, dropped: Outcome, last_carried: CampaignState | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dropped = dropped
        self.last_carried = last_carried


def _refusal(error: FailureError) -> str | None:
    """The reason of a ``CHANGE_REFUSED`` failure: a regular activity's comes wrapped in an
    ``ActivityError``, a local activity's as the application error itself."""
    found: BaseException | None = error
    while isinstance(found, FailureError):
        if isinstance(found, ApplicationError) and found.type == CHANGE_REFUSED:
            return found.message
        found = found.cause
    return None


class ChangeQueue:
    def __init__(self, revision: int, carried: CampaignState | None) -> None:
        self.revision = revision
        self.carried = carried
        """The state of the last change carried out (or as loaded): persisted, and sound."""
        # Each committed change, whether a caller waits on an update for it, and its cause.
        self._queue: deque[tuple[Outcome, bool, Cause]] = deque()
        self._carrying = False  # a change has left the queue and is being carried out

    @property
    def queued(self) -> bool:
        return bool(self._queue)

    @property
    def busy(self) -> bool:
        """Changes are queued or being carried out."""
        return bool(self._queue) or self._carrying

    def drop_queued(self) -> None:
        """Forget the changes not carried out yet (decided on a state being dropped)."""
        self._queue.clear()

    def add(self, outcome: Outcome, *, answering: bool) -> None:
        if outcome.changed:
            self._queue.append((outcome, answering, current()))

    async def carry_out(self, book: Callable[[BrokerOrder], Awaitable[None]]) -> None:
        """Carry out every queued change, including those booking adds meanwhile."""
        self._carrying = True
        try:
            while self._queue:
                outcome, answering, cause = self._queue.popleft()
                with resumed(cause):
                    await self._carry_out_one(outcome, answering, book)
        finally:
            self._carrying = False

    async def _carry_out_one(
        self, outcome: Outcome, answering: bool, book: Callable[[BrokerOrder], Awaitable[None]]
    ) -> None:
        self.revision += 1
        request = CarryOutRequest(
            revision=self.revision,
            state=outcome.state,
            events=outcome.events,
            cancellations=outcome.cancellations,
            orders=outcome.orders,
        )
        try:
            carried = await activities.carry_out(request, answering=answering)
        except FailureError as error:
            reason = _refusal(error)
            if reason is None:
                raise
            self.drop_queued()
            raise ChangeRefused(reason, outcome, self.carried) from error
        self.carried = outcome.state
        for broker_order in (*carried.cancelled, *carried.orders):
            await book(broker_order)
