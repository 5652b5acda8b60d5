"""Refusals as the failures an update answers with: the type is a ``Refusal`` member, which the
client turns back into the enum and the API into an HTTP status."""

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.errors import CampaignError, Refusal
    from campaign_engine.domain.state import CampaignState


def refusal(kind: Refusal, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind.value, non_retryable=True)


def refusal_for(error: CampaignError) -> ApplicationError:
    return refusal(error.refusal, str(error))


def require_open(state: CampaignState | None, campaign_id: str) -> CampaignState:
    """The campaign, if it exists and is not closed; otherwise the refusal that says why."""
    if state is None or not state.exists:
        raise refusal(Refusal.NO_CAMPAIGN, f"there is no campaign {campaign_id}")
    if state.is_closed:
        raise refusal(
            Refusal.CAMPAIGN_CLOSED, f"campaign {state.campaign_id} is already {state.status.value}"
        )
    return state
