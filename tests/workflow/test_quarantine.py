"""A change that can never be persisted, on the real workflow: with no sound state to go back
to, the run fails with the reason instead of retrying forever. (The quarantine of a campaign
that has a sound state, with the database's own refusal and its rows, is told end to end in
``tests/e2e/test_value_domain.py``.)"""

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import CARRY_OUT, PersistRequest, workflow_id_for
from campaign_engine.testing.builders import signal, trading_range
from tests.support.harness import eventually
from tests.workflow.conftest import Campaigns


def _no_zzz(request: PersistRequest) -> str | None:
    """As a check constraint on the symbol would refuse it."""
    return "CheckViolation: symbol ZZZ" if request.state.symbol == "ZZZ" else None


async def test_a_campaign_with_no_sound_state_fails_its_run_with_the_reason(
    campaigns: Campaigns,
) -> None:
    """The very first change refused: nothing to go back to, so the run fails, visibly,
    instead of retrying forever."""
    campaigns.ledger.refuse = _no_zzz
    rng = trading_range(symbol="ZZZ")
    plan = await campaigns.client.submit(signal(Pattern.SPRING, rng=rng))
    assert plan.approved  # answered before the change is carried out
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(plan.campaign_id))

    async def failed() -> bool:
        return (await handle.describe()).status is WorkflowExecutionStatus.FAILED

    await eventually(failed)
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert "no sound state" in str(failure.value.cause)
    assert "CheckViolation: symbol ZZZ" in str(failure.value.cause)
    # Attempted once, not retried: the failure is one no retry can cure.
    assert campaigns.activities.calls.count(CARRY_OUT) == 1
    assert campaigns.ledger.revision(plan.campaign_id) == 0
