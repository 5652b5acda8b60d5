"""What the prices and the operator ask of a campaign run, decided through the pure domain: a
price evaluated against the positions, an invalidation, a status change. Each takes the state
it decides on and returns the outcome; the run commits it under its lock (see
``CampaignWorkflow``).

An operator's command happens at the campaign's market time (``market_time``), never at the
server's: the same commands on the same data give the same outcome whenever they are played.
"""

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.bar_coalescing import price_correlation_id
    from campaign_engine.domain.campaign import Outcome, change_status, invalidate, on_price
    from campaign_engine.domain.errors import CampaignError, Refusal
    from campaign_engine.domain.market import PriceUpdate
    from campaign_engine.domain.policy import Policy
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.temporal.messages import ChangeStatusRequest, InvalidateRequest
    from campaign_engine.workflows.refusals import refusal, refusal_for, require_open


class CampaignCommands:
    def __init__(self, campaign_id: str, policy: Policy) -> None:
        self._campaign_id = campaign_id
        self._policy = policy

    def evaluate_price(self, state: CampaignState | None, update: PriceUpdate) -> Outcome | None:
        """The price's outcome, or None when there is no campaign or the price is refused."""
        if state is None:
            return None
        try:
            return on_price(state, update, self._policy, update.as_of, price_correlation_id(update))
        except CampaignError as error:  # e.g. another symbol: ignore, loudly
            workflow.logger.warning("price update refused: %s", error)
            return None

    def invalidate(self, state: CampaignState | None, request: InvalidateRequest) -> Outcome:
        """The INVALIDATED campaign, or the refusal that says why it cannot be."""
        current = self.check_open(state)
        return _decided(
            lambda: invalidate(
                current, request.reason, _market_now(current), _correlation("invalidate")
            )
        )

    def change_status(self, state: CampaignState | None, request: ChangeStatusRequest) -> Outcome:
        """The campaign at its new status, or the refusal that says why not."""
        current = self.check_open(state)
        return _decided(
            lambda: change_status(
                current,
                request.status,
                request.version,
                _market_now(current),
                _correlation("operator"),
            )
        )

    def check_open(self, state: CampaignState | None) -> CampaignState:
        return require_open(state, self._campaign_id)

    def check_version(self, state: CampaignState | None, request: ChangeStatusRequest) -> None:
        current = self.check_open(state)
        if current.version != request.version:
            raise refusal(
                Refusal.VERSION_CONFLICT,
                f"campaign is at version {current.version}, not {request.version}",
            )


def _decided(decide: Callable[[], Outcome]) -> Outcome:
    try:
        return decide()
    except CampaignError as error:
        raise refusal_for(error) from None


def _correlation(source: str) -> str:
    return f"{source}:{workflow.uuid4()}"


def _market_now(state: CampaignState) -> datetime:
    """When an operator's command happens on the campaign's clock (see ``market_time``)."""
    assert state.market_time is not None  # an open campaign has acted at least once
    return state.market_time
