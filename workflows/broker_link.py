"""A campaign run's side of its broker: what the broker pushed, queued in arrival order; when
to ask it how open orders stand (see ``BrokerPoll``); and every report booked through the pure
domain as the truth it is (``book_report``, ``book_holding``).

Shares sold at the broker by hand are found by the holdings reconciler outside the workflows
(``services/holdings_reconciler.py``), which signals a ``holding_report`` to a campaign whose
shares are missing. Runs started before it existed (``HOLDINGS_RECONCILER`` not patched in)
keep polling their holding themselves (``broker_holding``), as they did when recorded.

It changes the campaign only through the run's lock and commit, like every handler.
"""

import asyncio
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome, book_holding, book_report
    from campaign_engine.domain.errors import CampaignError
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import BrokerOrder, HoldingReport, HoldingRequest
    from campaign_engine.workflows import activities
    from campaign_engine.workflows.broker_poll import BrokerPoll
    from campaign_engine.workflows.changes import ChangeQueue

HOLDINGS_RECONCILER = "holdings-reconciler"
"""The patch of runs that leave their holding to the reconciler (``workflow.patched``)."""
POLL_AFTER_CARRY_OUT = "poll-after-carry-out"
"""The patch of runs that start no poll while a change is carried out (``workflow.patched``)."""


class BrokerLink:
    def __init__(
        self,
        lock: asyncio.Lock,
        state: Callable[[], CampaignState | None],
        commit: Callable[[Outcome], None],
        changes: ChangeQueue,
        longest_poll: timedelta,
    ) -> None:
        self._lock = lock
        self._state = state
        self._commit = commit
        self._changes = changes
        self._pushed: list[BrokerOrder | HoldingReport] = []
        self.poll = BrokerPoll(longest_poll)
        self.polls_holdings = True
        """The run asks the broker for its holding itself (a run recorded before the holdings
        reconciler); set once, at the start of the run."""
        self.waits_for_carry_out = False
        """No poll while a change is carried out: ``carry_out`` answers how the orders it placed
        stand, so a poll's timer started meanwhile (each order placed used to start one, and
        its firing cost a workflow task five seconds later) asks nothing worth asking. Set once,
        at the start of the run; runs recorded before it keep their timers."""

    @property
    def has_pushed(self) -> bool:
        return bool(self._pushed)

    def push(self, update: BrokerOrder | HoldingReport) -> None:
        self._pushed.append(update)

    async def book_pushed(self) -> None:
        while self._pushed:
            pushed = self._pushed.pop(0)
            if isinstance(pushed, HoldingReport):
                await self._book_holding_report(pushed)
            else:
                await self.book(pushed)

    async def book(self, report: BrokerOrder) -> None:
        """Book the report's fills (each once) and how the order ended. A report that changes
        something sets the next poll back to its shortest interval."""
        async with self._lock:
            state = self._state()
            assert state is not None
            try:
                outcomes = book_report(state, report)
            except CampaignError as error:  # not an order of ours, or an impossible fill
                workflow.logger.warning("broker report refused: %s", error)
                return
            for outcome in outcomes:
                self._commit(outcome)
            if outcomes:
                self.poll.reset()

    def asks(self) -> bool:
        """Orders wait for fills (or, in a run that polls its holding, the open campaign holds
        shares the broker might no longer hold): worth asking the broker now and then.

        Never while a handler holds the lock: a handler waiting there on a local activity is
        resumed at a different moment when its history is replayed (the activity's result is
        in the history) than when it ran, so a poll started meanwhile (an activity, a timer)
        would take another place among the commands, and the replay would fail. Waiting for
        the lock makes the poll come after the handler's change either way."""
        state = self._state()
        changing = self._changes.busy if self.waits_for_carry_out else self._changes.queued
        if state is None or changing or self._lock.locked():
            return False
        holds = not state.is_closed and any(p.open_shares > 0 for p in state.positions)
        return bool(state.open_order_ids) or (self.polls_holdings and holds)

    async def keep_poll_time(self) -> None:
        """While the campaign has something to ask its broker about, a timer marks each poll
        due (see ``BrokerPoll``); the run loop asks."""
        poll = self.poll
        while True:
            await workflow.wait_condition(lambda: self.asks() and not poll.due)
            await workflow.sleep(poll.interval)
            poll.due = True

    async def reconcile(self, open_order_ids: tuple[str, ...], *, settled: bool) -> None:
        """Ask the broker how each open order stands and book what it says; in a run that polls
        its holding, when nothing is in flight, compare the shares held with the account too."""
        for client_order_id in open_order_ids:
            await self.book(await activities.get_order(client_order_id))
        state = self._state()
        holds = state is not None and any(p.open_shares > 0 for p in state.positions)
        if self.polls_holdings and settled and holds and state and not state.open_order_ids:
            await self._reconcile_holding(state)
        self.poll.polled()

    async def _reconcile_holding(self, state: CampaignState) -> None:
        """Shares the broker's account no longer holds for this campaign (sold by hand while
        the engine looked away) are booked once, as the account says."""
        holding = await activities.broker_holding(
            HoldingRequest(campaign_id=state.campaign_id, symbol=state.symbol)
        )
        if holding.available is None:  # an order on the symbol is in flight: not now
            return
        async with self._lock:
            current = self._state()
            assert current is not None
            for outcome in book_holding(current, holding.available):
                self._commit(outcome)

    async def _book_holding_report(self, report: HoldingReport) -> None:
        """Book the reconciler's finding only against what it was computed from: the revision
        it read, nothing queued or in flight since. Otherwise it is stale, and the next round
        reads the truth."""
        async with self._lock:
            state = self._state()
            stale = (
                state is None
                or self.polls_holdings  # this run asks for itself, as when it was recorded
                or report.campaign_id != state.campaign_id
                or report.symbol != state.symbol
                or report.revision != self._changes.revision
                or self._changes.busy
                or bool(state.open_order_ids)
            )
            if stale:
                workflow.logger.debug(
                    "holding report at revision %s ignored (run at %s)",
                    report.revision,
                    self._changes.revision,
                )
                return
            assert state is not None
            for outcome in book_holding(state, report.available):
                self._commit(outcome)
