"""What the prices and the operator ask of a campaign run, decided through the pure domain
under the run's lock and committed like every change (see ``CampaignWorkflow``): a price
evaluated against the positions, an invalidation, a status change.

An operator's command happens at the campaign's market time (``market_time``), never at the
server's: the same commands on the same data give the same outcome whenever they are played.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.bar_coalescing import price_correlation_id
    from campaign_engine.domain.campaign import (
        Outcome,
        change_status,
        invalidate,
        needs_flattening,
        on_price,
    )
    from campaign_engine.domain.errors import CampaignError, Refusal
    from campaign_engine.domain.market import PriceUpdate
    from campaign_engine.domain.policy import Policy
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import ChangeStatusRequest, InvalidateRequest
    from campaign_engine.workflows.refusals import refusal, refusal_for, require_open


class Commit(Protocol):
    def __call__(self, outcome: Outcome, *, answering: bool = False) -> None: ...


class CampaignCommands:
    def __init__(
        self,
        campaign_id: str,
        policy: Policy,
        lock: asyncio.Lock,
        state: Callable[[], CampaignState | None],
        commit: Commit,
        settled: Callable[[], Awaitable[None]],
        *,
        flatten: Callable[[], bool] = lambda: False,
    ) -> None:
        self._flatten = flatten
        self._campaign_id = campaign_id
        self._policy = policy
        self._lock = lock
        self._state = state
        self._commit = commit
        self._settled = settled

    async def evaluate_price(self, update: PriceUpdate) -> None:
        async with self._lock:
            state = self._state()
            if state is None:
                return
            # Asked only where a price would retry an ended campaign's unsold shares, so that
            # runs recorded before replay as they ran (see ``workflows/flat_retries.py``).
            flatten = needs_flattening(state) and self._flatten()
            try:
                outcome = on_price(
                    state,
                    update,
                    self._policy,
                    update.as_of,
                    price_correlation_id(update),
                    flatten=flatten,
                )
            except CampaignError as error:  # e.g. another symbol: ignore, loudly
                workflow.logger.warning("price update refused: %s", error)
                return
            self._commit(outcome)

    async def invalidate(self, request: InvalidateRequest) -> CampaignState:
        """The INVALIDATED campaign, or the refusal that says why it cannot be."""
        return await self._decide(
            "invalidate",
            lambda state, now, correlation: invalidate(state, request.reason, now, correlation),
        )

    async def change_status(self, request: ChangeStatusRequest) -> CampaignState:
        """The campaign at its new status, or the refusal that says why not."""
        return await self._decide(
            "operator",
            lambda state, now, correlation: change_status(
                state, request.status, request.version, now, correlation
            ),
        )

    def check_open(self) -> CampaignState:
        return require_open(self._state(), self._campaign_id)

    def check_version(self, request: ChangeStatusRequest) -> None:
        state = self.check_open()
        if state.version != request.version:
            raise refusal(
                Refusal.VERSION_CONFLICT,
                f"campaign is at version {state.version}, not {request.version}",
            )

    async def _decide(
        self, source: str, decide: Callable[[CampaignState, datetime, str], Outcome]
    ) -> CampaignState:
        """An operator's command, once every change before it is carried out (it applies to
        the positions those changes opened, as a price does)."""
        await self._settled()
        async with self._lock:
            state = self.check_open()
            try:
                outcome = decide(state, _market_now(state), f"{source}:{workflow.uuid4()}")
            except CampaignError as error:
                raise refusal_for(error) from None
            self._commit(outcome, answering=True)
            return outcome.state


def _market_now(state: CampaignState) -> datetime:
    """When an operator's command happens on the campaign's clock (see ``market_time``)."""
    assert state.market_time is not None  # an open campaign has acted at least once
    return state.market_time
