"""A campaign run's side of its broker: what the broker pushed, queued in arrival order; when
to ask it how open orders stand (see ``BrokerPoll``); and every report turned into outcomes
through the pure domain, as the truth it is (``book_report``, ``book_holding``).

Shares sold at the broker by hand are found by the holdings reconciler outside the workflows
(``services/holdings_reconciler.py``), which signals a ``holding_report`` to a campaign whose
shares are missing.

Nothing here changes the campaign: each method takes the state it decides on and returns the
outcomes, which the run commits under its lock (see ``CampaignWorkflow``).
"""

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome, book_holding, book_report
    from campaign_engine.domain.errors import CampaignError
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import BrokerOrder, HoldingReport
    from campaign_engine.workflows.broker_poll import BrokerPoll

Pushed = BrokerOrder | HoldingReport


class BrokerLink:
    def __init__(self, longest_poll: timedelta) -> None:
        self._pushed: list[Pushed] = []
        self.poll = BrokerPoll(longest_poll)

    @property
    def has_pushed(self) -> bool:
        return bool(self._pushed)

    def push(self, update: Pushed) -> None:
        self._pushed.append(update)

    def take(self) -> Pushed | None:
        """The oldest push not booked yet, or None."""
        return self._pushed.pop(0) if self._pushed else None

    def resumed(self, state: CampaignState | None) -> None:
        """A run that starts with a campaign that existed before it (continued, or reloaded
        after its run ended or failed): the broker may have filled or cancelled its open orders
        meanwhile, and the pushes of that time may be lost, so it asks first, as soon as it
        may (see ``asks``), not after the poll's first interval."""
        if state is not None and state.exists and state.open_order_ids:
            self.poll.start_now()

    def booked(self, state: CampaignState, report: BrokerOrder) -> tuple[Outcome, ...]:
        """The report's fills (each once) and how the order ended. A report that changes
        something sets the next poll back to its shortest interval."""
        try:
            outcomes = book_report(state, report)
        except CampaignError as error:  # not an order of ours, or an impossible fill
            workflow.logger.warning("broker report refused: %s", error)
            return ()
        if outcomes:
            self.poll.reset()
        return outcomes

    def on_pushed(
        self, state: CampaignState | None, pushed: Pushed, *, revision: int, busy: bool
    ) -> tuple[Outcome, ...]:
        """What a push changes: an order's report is booked; a holding report only if it is
        still current (see ``_holding_outcomes``)."""
        if isinstance(pushed, HoldingReport):
            return self._holding_outcomes(state, pushed, revision=revision, busy=busy)
        assert state is not None  # a run with no campaign has placed no order
        return self.booked(state, pushed)

    def asks(self, state: CampaignState | None, *, busy: bool) -> bool:
        """Orders wait for fills: worth asking the broker now and then.

        Never while ``busy``: a change being carried out answers how the orders it placed
        stand; and a handler holding the run's lock while it waits on a local activity is
        resumed at a different moment when its history is replayed (the activity's result is
        in the history) than when it ran, so a poll started meanwhile (an activity, a timer)
        would take another place among the commands, and the replay would fail. Waiting makes
        the poll come after the change either way."""
        return state is not None and not busy and bool(state.open_order_ids)

    async def keep_poll_time(self, asks: Callable[[], bool]) -> None:
        """While the campaign has something to ask its broker about (``asks``), a timer marks
        each poll due (see ``BrokerPoll``); the run loop asks."""
        poll = self.poll
        while True:
            await workflow.wait_condition(lambda: asks() and not poll.due)
            await workflow.sleep(poll.interval)
            poll.due = True

    def _holding_outcomes(
        self, state: CampaignState | None, report: HoldingReport, *, revision: int, busy: bool
    ) -> tuple[Outcome, ...]:
        """The reconciler's finding, booked only against what it was computed from: the
        revision it read, nothing queued or in flight since. Otherwise it is stale, and the
        next round reads the truth."""
        stale = (
            state is None
            or report.campaign_id != state.campaign_id
            or not state.trades(report.symbol)
            or report.revision != revision
            or busy
            or bool(state.open_order_ids)
        )
        if stale:
            workflow.logger.debug(
                "holding report at revision %s ignored (run at %s)", report.revision, revision
            )
            return ()
        assert state is not None
        return book_holding(state, report.available)
