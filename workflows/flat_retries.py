"""Flat means flat, on the workflow's side: a campaign that has ended while holding shares its
exits could not sell keeps offering them (``domain.campaign.flat``), on each later price (see
``CampaignCommands.evaluate_price``) and, between prices, after a backoff that grows while the
broker keeps refusing (the shared ``Backoff``, its jitter drawn from the workflow's
deterministic random), until the campaign holds nothing.

The run waits for its turn here (``next_try``) and decides the retry here (``retry``), and
commits it under its lock. The timer starts only while nothing is carried out and no handler
holds the lock, as the broker poll's does (see ``BrokerLink.asks``), so it takes the same place
among the commands when the history is replayed.
"""

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome, needs_flattening, retry_flat
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.runtime.backoff import Backoff

FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 300.0


def wants_flat(state: CampaignState | None, *, busy: bool) -> bool:
    """Ended, holding shares nothing is selling, and the run is quiet."""
    return state is not None and not busy and needs_flattening(state)


class FlatRetries:
    def __init__(self) -> None:
        self._backoff = Backoff(
            start=FIRST_RETRY_SECONDS,
            cap=LONGEST_RETRY_SECONDS,
            jitter="decorrelated",
            rng=workflow.random(),
        )

    async def next_try(self, due: Callable[[], bool]) -> None:
        """Until ``due`` holds, then the backoff's next delay."""
        await workflow.wait_condition(due)
        delay = self._backoff.next()
        workflow.logger.warning(
            "campaign ended holding shares its exits could not sell: retrying in %.1fs", delay
        )
        await workflow.sleep(delay)

    @staticmethod
    def retry(state: CampaignState | None, *, busy: bool) -> Outcome | None:
        """The retry, at the last price (or the entry's, if none came since), unless the
        campaign has become flat or busy meanwhile."""
        if state is None or busy or not needs_flattening(state):
            return None
        price = state.last_price or next(
            p.average_entry_price for p in state.positions if p.holds_shares
        )
        now = state.market_time
        assert now is not None  # it has traded
        correlation = f"flatten:{state.campaign_id}:{state.version}"
        return retry_flat(state, price, now, correlation, trigger="backoff")
