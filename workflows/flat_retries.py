"""Flat means flat, on the workflow's side: a campaign that has ended while holding shares its
exits could not sell keeps offering them (``domain.campaign.flat``), on each later price (see
``CampaignCommands.evaluate_price``) and, between prices, after a backoff that grows while the
broker keeps refusing (the shared ``Backoff``, its jitter drawn from the workflow's
deterministic random), until the campaign holds nothing.

Runs recorded before this (no ``flat-means-flat`` marker where a retry would now be) replay as
they ran: they left such shares alone. The timer starts only while nothing is carried out and
no handler holds the lock, as the broker poll's does (see ``BrokerLink.asks``), so it takes the
same place among the commands when the history is replayed.
"""

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome, needs_flattening, retry_flat
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.runtime.backoff import Backoff
    from campaign_engine.workflows.changes import ChangeQueue

FLAT_MEANS_FLAT = "flat-means-flat"
"""The patch of runs that retry an ended campaign's unsold shares (``workflow.patched``)."""

FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 300.0


class FlatRetries:
    def __init__(
        self,
        lock: asyncio.Lock,
        state: Callable[[], CampaignState | None],
        commit: Callable[[Outcome], None],
        changes: ChangeQueue,
    ) -> None:
        self._lock = lock
        self._state = state
        self._commit = commit
        self._changes = changes

    def due(self) -> bool:
        """Ended, holding shares nothing is selling, and the run is quiet."""
        state = self._state()
        return (
            state is not None
            and not self._changes.busy
            and not self._lock.locked()
            and needs_flattening(state)
        )

    def wanted(self) -> bool:
        """A price may retry now: the run took the retry path (a marker in new runs)."""
        return workflow.patched(FLAT_MEANS_FLAT)

    async def keep_trying(self) -> None:
        backoff = Backoff(
            start=FIRST_RETRY_SECONDS,
            cap=LONGEST_RETRY_SECONDS,
            jitter="decorrelated",
            rng=workflow.random(),
        )
        while True:
            await workflow.wait_condition(self.due)
            if not self.wanted():
                return  # a run recorded before: it left the shares alone
            delay = backoff.next()
            workflow.logger.warning(
                "campaign ended holding shares its exits could not sell: retrying in %.1fs",
                delay,
            )
            await workflow.sleep(delay)
            async with self._lock:
                state = self._state()
                if state is None or not needs_flattening(state) or self._changes.busy:
                    continue
                price = state.last_price or next(
                    p.average_entry_price for p in state.positions if p.open_shares > 0
                )
                now = state.market_time
                assert now is not None  # it has traded
                correlation = f"flatten:{state.campaign_id}:{state.version}"
                self._commit(retry_flat(state, price, now, correlation, trigger="backoff"))
