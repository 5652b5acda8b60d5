"""A campaign run's side of its broker: what the broker pushed, queued in arrival order; when
to ask it how open orders stand (see ``BrokerPoll``); and every report booked through the pure
domain as the truth it is (``book_report``, ``book_holding``).

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
    from campaign_engine.messages import BrokerOrder, HoldingRequest
    from campaign_engine.workflows import activities
    from campaign_engine.workflows.broker_poll import BrokerPoll


class BrokerLink:
    def __init__(
        self,
        lock: asyncio.Lock,
        state: Callable[[], CampaignState | None],
        commit: Callable[[Outcome], None],
        longest_poll: timedelta,
    ) -> None:
        self._lock = lock
        self._state = state
        self._commit = commit
        self._pushed: list[BrokerOrder] = []
        self.poll = BrokerPoll(longest_poll)

    @property
    def has_pushed(self) -> bool:
        return bool(self._pushed)

    def push(self, update: BrokerOrder) -> None:
        self._pushed.append(update)

    async def book_pushed(self) -> None:
        while self._pushed:
            await self.book(self._pushed.pop(0))

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

    async def reconcile(self, open_order_ids: tuple[str, ...], *, settled: bool) -> None:
        """Ask the broker how each open order stands and book what it says; when nothing is in
        flight, compare the shares held with the broker's account too."""
        for client_order_id in open_order_ids:
            await self.book(await activities.get_order(client_order_id))
        state = self._state()
        holds = state is not None and any(p.open_shares > 0 for p in state.positions)
        if settled and holds and state is not None and not state.open_order_ids:
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
