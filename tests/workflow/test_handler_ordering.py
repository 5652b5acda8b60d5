"""Handler ordering on the real workflow: every state change is serialised, so a price that
arrives while an entry waits for the portfolio is applied after that entry, not beside it or
before it."""

import asyncio
from decimal import Decimal

from temporalio.api.enums.v1 import EventType

from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import LOAD_AND_RESERVE, RESERVE_RISK, workflow_id_for
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import eventually
from tests.workflow.conftest import Campaigns

D = Decimal


async def test_a_price_arriving_while_an_entry_waits_for_the_portfolio_is_applied_after_it(
    campaigns: Campaigns,
) -> None:
    ledger, activities = campaigns.ledger, campaigns.activities
    spring = await campaigns.client.submit(signal(Pattern.SPRING))
    campaign_id = spring.campaign_id
    await campaigns.saved(campaign_id, 2)  # entered and filled

    activities.portfolio_open.clear()
    asked_before = len(activities.calls)
    entry = asyncio.create_task(campaigns.client.submit(signal(Pattern.SOS)))

    async def waiting_for_the_portfolio() -> bool:
        asked = activities.calls[asked_before:]
        return RESERVE_RISK in asked or LOAD_AND_RESERVE in asked

    await eventually(waiting_for_the_portfolio)
    await campaigns.client.send_price(campaign_id, tick("150.10", 5))
    # Held until the run has been handed the price: a local activity this long has its
    # workflow task heartbeated (at 80% of the task's 10 s timeout), and the server then
    # delivers the signals that came meanwhile, while the entry still waits.
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))

    async def price_delivered() -> bool:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                return True
        return False

    await eventually(price_delivered)
    await asyncio.sleep(0.5)  # time for the run to act on it, if it did not wait
    assert not entry.done()
    activities.portfolio_open.set()
    sos = await entry
    assert sos.approved

    async def priced() -> bool:
        state, _ = ledger.load(campaign_id)
        return state is not None and state.last_price == D("150.10")

    await eventually(priced)
    revisions = ledger.snapshots[campaign_id]
    entered = min(r for r, s in revisions.items() if s.position_for(Pattern.SOS) is not None)
    priced_at = min(r for r, s in revisions.items() if s.last_price == D("150.10"))
    assert entered < priced_at, revisions
