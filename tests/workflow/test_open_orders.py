"""An order the broker leaves open, on the real workflow: its fills are booked as the broker
reports them (pushed, or found by the run's own poll), each once; an entry past its expiry is
cancelled and its risk released; a cancel that loses the race to a fill is booked as the fill.
(Open orders across a worker killed and restarted are told end to end in
``tests/e2e/test_open_orders.py`` and ``tests/e2e/test_broker_reconciliation.py``.)"""

from decimal import Decimal

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from campaign_engine.brokers.updates import CampaignOrderUpdates
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern, PositionStatus
from campaign_engine.temporal.messages import GET_ORDER, workflow_id_for
from campaign_engine.testing.builders import T0, signal, tick
from tests.support.harness import eventually
from tests.workflow.broker_book import entries_rest
from tests.workflow.conftest import Campaigns

D = Decimal
HOURS = 60  # minutes: the range's timeframe is 1h, so an entry expires 3 bars (180 min) on


async def resting_spring(campaigns: Campaigns) -> str:
    """A Spring entry of 333 shares at 148.50 resting at the broker."""
    campaigns.broker.decide = entries_rest
    plan = await campaigns.client.submit(signal(Pattern.SPRING))
    assert plan.approved and plan.shares == D(333)
    entry_id = f"{plan.campaign_id}:SPRING:ENTRY"

    async def placed() -> bool:
        return entry_id in campaigns.broker.answers

    await eventually(placed)
    return plan.campaign_id


async def state_of(campaigns: Campaigns, campaign_id: str) -> CampaignState:
    state = await campaigns.client.status(campaign_id)
    assert state is not None
    return state


def spring_of(state: CampaignState) -> tuple[PositionStatus, Decimal, Decimal, Decimal]:
    """The Spring position's status, shares bought, shares held and shares still to fill."""
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None
    return spring.status, spring.shares, spring.open_shares, spring.unfilled_shares


async def test_an_entry_past_its_expiry_is_cancelled_and_its_risk_released(
    campaigns: Campaigns,
) -> None:
    campaign_id = await resting_spring(campaigns)
    await campaigns.saved(campaign_id, 1)
    assert campaigns.ledger.state(campaign_id).reserved_risk == D("499.50")  # 333 x 1.50
    await campaigns.client.send_price(campaign_id, tick("149.20", 2 * HOURS))
    await campaigns.client.send_price(campaign_id, tick("149.30", 3 * HOURS))  # the 3rd bar

    async def released() -> bool:
        return "EntryReleased" in campaigns.ledger.kinds(campaign_id)

    await eventually(released)
    state = await state_of(campaigns, campaign_id)
    spring = state.position_for(Pattern.SPRING)
    assert spring is not None and spring.status is PositionStatus.CLOSED and spring.shares == 0
    assert state.status is CampaignStatus.ACTIVE  # nothing was held: open for its next entry
    assert campaigns.ledger.state(campaign_id).reserved_risk == 0
    trail = campaigns.ledger.kinds(campaign_id)
    assert trail.index("OrderCancelRequested") < trail.index("EntryReleased")


async def test_an_entry_given_up_on_that_filled_after_all_is_booked_once_and_announced(
    campaigns: Campaigns,
) -> None:
    campaigns.broker.cancel_loses_race = True
    campaign_id = await resting_spring(campaigns)
    await campaigns.client.send_price(campaign_id, tick("149.30", 3 * HOURS))  # expiry: cancel

    async def announced() -> bool:
        return "BrokerDifference" in campaigns.ledger.kinds(campaign_id)

    await eventually(announced)
    trail = campaigns.ledger.kinds(campaign_id)
    assert trail.count("PositionOpened") == 1
    assert "EntryReleased" not in trail
    spring = (await state_of(campaigns, campaign_id)).position_for(Pattern.SPRING)
    assert spring is not None and spring.open_shares == D(333)


async def test_pushed_partial_fills_are_booked_once_each_and_keep_the_rest_reserved(
    campaigns: Campaigns,
) -> None:
    campaign_id = await resting_spring(campaigns)
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    updates = CampaignOrderUpdates(campaigns.client.temporal)
    part = campaigns.broker.fill(entry_id, D(100), D("148.50"), T0)
    await updates.deliver(campaign_id, part)
    await updates.deliver(campaign_id, part)  # delivered twice, as a stream may

    async def booked() -> bool:
        spring = (await state_of(campaigns, campaign_id)).position_for(Pattern.SPRING)
        return spring is not None and spring.shares == D(100)

    await eventually(booked)
    state = await state_of(campaigns, campaign_id)
    assert spring_of(state) == (PositionStatus.OPEN, D(100), D(100), D(233))
    record = state.order(entry_id)
    assert record is not None and record.status.value == "OPEN"  # not taken as filled
    await campaigns.saved(campaign_id, state.version)
    assert campaigns.ledger.state(campaign_id).reserved_risk == D("349.50")  # 233 x 1.50

    rest = campaigns.broker.fill(entry_id, D(233), D("148.40"), T0)
    await updates.deliver(campaign_id, rest)

    async def whole() -> bool:
        spring = (await state_of(campaigns, campaign_id)).position_for(Pattern.SPRING)
        return spring is not None and spring.open_shares == D(333)

    await eventually(whole)
    record = (await state_of(campaigns, campaign_id)).order(entry_id)
    assert record is not None and record.fill_ids == (f"{entry_id}:1", f"{entry_id}:2")
    assert campaigns.ledger.kinds(campaign_id).count("PositionOpened") == 1


async def test_a_fill_nobody_pushes_is_found_by_the_run_s_poll(campaigns: Campaigns) -> None:
    campaigns.client.reconcile_every_seconds = 1  # the soonest a run asks its broker again
    campaign_id = await resting_spring(campaigns)
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    campaigns.broker.fill(entry_id, D(333), D("148.50"), T0)  # no order_update is sent

    async def booked() -> bool:
        spring = (await state_of(campaigns, campaign_id)).position_for(Pattern.SPRING)
        return spring is not None and spring.open_shares == D(333)

    await eventually(booked)
    assert GET_ORDER in campaigns.activities.calls


async def test_an_open_entry_is_carried_across_continue_as_new_and_booked_once(
    campaigns: Campaigns,
) -> None:
    campaigns.client.continue_as_new_after_events = 50  # the smallest history a run may grow to
    campaign_id = await resting_spring(campaigns)
    entry_id = f"{campaign_id}:SPRING:ENTRY"
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))
    first_run = (await handle.describe()).run_id
    # Prices that cross nothing while the entry rests grow the history past 50 events.
    for minute in range(1, 25):
        await campaigns.client.send_price(campaign_id, tick("148.80", minute))

    async def continued() -> bool:
        first = campaigns.client.temporal.get_workflow_handle(handle.id, run_id=first_run)
        return (await first.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW

    await eventually(continued)
    state = await state_of(campaigns, campaign_id)
    record = state.order(entry_id)
    assert record is not None and record.filled_quantity == 0
    pending = state.position_for(Pattern.SPRING)
    assert pending is not None and pending.status is PositionStatus.PENDING

    filled = campaigns.broker.fill(entry_id, D(333), D("148.50"), T0)
    await CampaignOrderUpdates(campaigns.client.temporal).deliver(campaign_id, filled)
    await campaigns.client.send_price(campaign_id, tick("149.00", 30))

    async def priced() -> bool:
        current = await state_of(campaigns, campaign_id)
        return current.last_price == D("149.00") and current.order(entry_id) is not None

    await eventually(priced)
    state = await state_of(campaigns, campaign_id)
    record = state.order(entry_id)
    assert record is not None and record.fill_ids == (filled.fills[0].fill_id,)
    assert spring_of(state) == (PositionStatus.OPEN, D(333), D(333), D(0))
    assert campaigns.ledger.kinds(campaign_id).count("PositionOpened") == 1


async def test_the_poll_backs_off_while_the_broker_reports_no_change(campaigns: Campaigns) -> None:
    """A resting entry is asked about after 5 s, then after twice as long while nothing
    changes (up to the run's ``reconcile_every_seconds``), not every few seconds."""
    campaign_id = await resting_spring(campaigns)
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))

    async def timers() -> list[float]:
        return [
            e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds()
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        ]

    async def second_timer() -> bool:
        return len(await timers()) >= 2

    await eventually(second_timer)
    assert (await timers())[:2] == [5.0, 10.0]
    assert campaigns.activities.calls.count(GET_ORDER) == 1  # asked once, after the first
