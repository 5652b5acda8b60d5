"""An entry signal decided through the pure domain (SPEC section 3): prepared on the campaign's
state, admitted by the portfolio when it gets that far (with the reservation the run's load
made together with it, or one asked for now), and concluded into the outcome the run commits
under its lock (see ``CampaignWorkflow.submit_signal``)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from campaign_engine.domain.campaign import Outcome, conclude_entry, prepare_entry
    from campaign_engine.domain.entry import Admission
    from campaign_engine.domain.market import EntrySignal
    from campaign_engine.domain.policy import Policy
    from campaign_engine.domain.state import CampaignState
    from campaign_engine.workflows import activities


async def decide_entry(
    state: CampaignState | None,
    signal: EntrySignal,
    policy: Policy,
    reserved: Admission | None,
) -> tuple[Outcome, Admission | None]:
    """The entry's outcome (its plan, approved or not), and the portfolio's admission if it
    was asked: a known signal id or a rejection by the campaign's own rules never asks."""
    entry = prepare_entry(state, signal, policy)
    admission = None
    request = entry.admission_request
    if request is not None:
        if reserved is None:
            reserved = (await activities.reserve_risk(request)).admission
        admission = reserved
    return conclude_entry(entry, admission, signal.generated_at), admission


def check_campaign(signal: EntrySignal, campaign_id: str) -> None:
    """Refuse a signal sent to another campaign's run."""
    if signal.campaign_id != campaign_id:
        raise ValueError(f"signal belongs to campaign {signal.campaign_id}, not {campaign_id}")
