"""What a run does when one of its changes can never be carried out (``ChangeRefused``):
quarantine the campaign from the last state that was, and say so in the log and a metric.

When there is no sound state to go back to (the campaign's very first change was refused) or
the campaign is quarantined already and a further change is refused, the run fails with the
reason instead: retrying would refuse the same way forever, and a failed run is what the
Temporal UI shows an operator at once.
"""

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign.outcome import Outcome
    from campaign_engine.domain.campaign.quarantine import quarantine
    from campaign_engine.domain.vocabulary import CampaignStatus
    from campaign_engine.temporal.messages import CHANGE_REFUSED
    from campaign_engine.workflows.changes import ChangeRefused

QUARANTINED_METRIC = "campaign_quarantined"


def quarantined(refused: ChangeRefused, carried_revision: int) -> Outcome:
    """The quarantine of the campaign the refused change belonged to."""
    last = refused.last_carried
    campaign_id = refused.dropped.state.campaign_id
    dropped = refused.dropped.state
    if last is None or not last.exists or dropped.status is CampaignStatus.QUARANTINED:
        raise ApplicationError(
            f"campaign {campaign_id}: a change cannot be carried out and there is no sound "
            f"state to quarantine it from: {refused.reason}",
            type=CHANGE_REFUSED,
            non_retryable=True,
        )
    workflow.logger.error("campaign %s quarantined: %s", campaign_id, refused.reason)
    workflow.metric_meter().create_counter(
        QUARANTINED_METRIC, "campaigns quarantined because a change could not be carried out"
    ).add(1)
    now = last.market_time or refused.dropped.state.market_time
    assert now is not None  # an existing campaign has acted at some market time
    return quarantine(last, refused.reason, now, f"quarantine:{campaign_id}#{carried_revision}")
