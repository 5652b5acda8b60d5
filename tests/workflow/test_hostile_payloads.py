"""Payloads that do not parse, sent straight to a campaign's workflow with the low-level client
(not through the API, which would refuse them first): an update is refused with an error
naming the problem, a signal is dropped with a warning and counted, and neither leaves a
failing workflow task behind; the campaign answers queries and takes valid commands after."""

import logging
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from campaign_engine.domain.errors import Refusal
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import eventually
from tests.workflow.conftest import Campaigns

CAMPAIGN = "AAPL-2024-10-15"


def raw(data: bytes, encoding: bytes = b"json/plain") -> RawValue:
    """A payload as it travels, whatever its bytes."""
    return RawValue(Payload(metadata={"encoding": encoding}, data=data))


async def _refused(handle: WorkflowHandle[Any, Any], update: str, arg: Any) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, arg)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == Refusal.INVALID_COMMAND.value, cause
    return cause.message


async def _no_failed_tasks(handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == [], failed


async def test_malformed_updates_are_refused_naming_the_problem(campaigns: Campaigns) -> None:
    await campaigns.client.submit(signal(Pattern.SPRING))
    await campaigns.saved(CAMPAIGN, 2)
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(CAMPAIGN))

    wrong_shape = await _refused(handle, "change_status", {"status": "BOGUS", "version": "x"})
    assert "change_status" in wrong_shape and "status" in wrong_shape and "version" in wrong_shape
    not_an_object = await _refused(handle, "invalidate_campaign", "range broken")
    assert "invalidate_campaign" in not_an_object
    out_of_range = await _refused(handle, "change_status", {"status": "MARKUP", "version": 0})
    assert "version" in out_of_range
    not_json = await _refused(handle, "submit_signal", raw(b"{not json"))
    assert "submit_signal" in not_json
    empty_reason = await _refused(handle, "invalidate_campaign", {"reason": "   "})
    assert "reason" in empty_reason

    state = await handle.query("get_status", result_type=CampaignState)
    assert (state.status, state.version) == (CampaignStatus.ACTIVE, 2)
    after = await campaigns.client.change_status(CAMPAIGN, CampaignStatus.MARKUP, 2)
    assert after.status is CampaignStatus.MARKUP
    await _no_failed_tasks(handle)


async def test_malformed_signals_are_dropped_counted_and_logged(
    campaigns: Campaigns, caplog: pytest.LogCaptureFixture
) -> None:
    await campaigns.client.submit(signal(Pattern.SPRING))
    await campaigns.saved(CAMPAIGN, 2)
    handle = campaigns.client.temporal.get_workflow_handle(workflow_id_for(CAMPAIGN))

    caplog.set_level(logging.WARNING)
    await handle.signal("price_update", {"symbol": 5, "as_of": "yesterday"})
    await handle.signal("invalidate", "range broken")
    await handle.signal("order_update", raw(b"\xff\xfe not json"))
    await handle.signal("price_update", raw(b"{}", encoding=b"binary/unknown"))

    async def all_dropped() -> bool:
        return bool(await handle.query("dropped_signals", result_type=int) == 4)

    await eventually(all_dropped)
    warnings = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert any("price_update" in w for w in warnings), warnings
    assert any("invalidate" in w for w in warnings), warnings
    assert any("order_update" in w for w in warnings), warnings

    # Nothing changed, and the campaign goes on: a valid price and a valid command are taken.
    state = await handle.query("get_status", result_type=CampaignState)
    assert (state.status, state.version) == (CampaignStatus.ACTIVE, 2)
    await campaigns.client.send_price(CAMPAIGN, tick("149.00", 1))

    async def price_taken() -> bool:
        taken = await handle.query("get_status", result_type=CampaignState)
        return taken.last_price is not None

    await eventually(price_taken)
    after = await campaigns.client.change_status(CAMPAIGN, CampaignStatus.MARKUP, 2)
    assert after.status is CampaignStatus.MARKUP
    await _no_failed_tasks(handle)
