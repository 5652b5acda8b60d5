"""The issue's reproductions of values that wedged a campaign, through the real API, Temporal
and PostgreSQL: each is now refused at the edge with a 422 naming the field, or, sent straight
to the workflow, refused by its validator; and a change the database refuses for good
quarantines its campaign instead of being retried forever."""

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError

from campaign_engine.db.schema import audit_trail, campaign_exposure, campaigns
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern, RejectionCode
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import signal, tick
from tests.support.harness import Stack, eventually, persisted_status, settled

CAMPAIGN = "AAPL-2024-10-15"
D = Decimal


def _fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [".".join(str(part) for part in problem["loc"]) for problem in detail]


async def test_values_past_their_domain_are_refused_at_the_api(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    plan = await stack.client.submit(signal(Pattern.SPRING))
    assert plan.approved
    await settled(stack, CAMPAIGN, 2)

    # A price the price column cannot hold: was 202, then carry_out failed forever.
    huge = {"symbol": "AAPL", "as_of": "2024-10-15T15:00:00Z", "price": "20000000000"}
    assert "body.price" in _fields(await api.post("/api/v1/prices", json=huge))
    # The bad tick of the issue: finer than the 8 places a price is kept with.
    tiny = {**huge, "price": "0.000000001"}
    assert "body.price" in _fields(await api.post("/api/v1/prices", json=tiny))
    late = {**huge, "price": "149", "as_of": "2201-01-01T00:00:00Z"}
    assert "body.as_of" in _fields(await api.post("/api/v1/prices", json=late))

    # A signal whose levels are past the bound: was approved (200) and never listed.
    body: dict[str, Any] = signal(Pattern.SOS).model_dump(mode="json")
    body["trading_range"]["jump"] = "20000000000"
    assert "body.trading_range.jump" in _fields(await api.post("/api/v1/signals", json=body))

    # A NUL byte in a reason: was 200 INVALIDATED while the write failed.
    nul = await api.post(f"/api/v1/campaigns/{CAMPAIGN}/invalidate", json={"reason": "nul\x00b"})
    assert "body.reason" in _fields(nul)

    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(CAMPAIGN))
    with pytest.raises(WorkflowUpdateFailedError):  # the workflow's validator, without the API
        await handle.execute_update("invalidate_campaign", {"reason": "nul\x00byte"})
    state = await stack.client.status(CAMPAIGN)
    assert state is not None
    assert state.status is CampaignStatus.ACTIVE and state.version == 2


async def _poison_last_price(stack: Stack, price: str) -> None:
    """Make this test's database refuse a value, as it refused the issue's: a write of a
    campaign whose last price is ``price`` now breaks a constraint."""
    async with stack.engine.begin() as conn:
        await conn.execute(
            text(
                "ALTER TABLE campaigns ADD CONSTRAINT ck_test_poison "
                f"CHECK (last_price IS DISTINCT FROM {price})"
            )
        )


async def test_a_change_the_database_refuses_quarantines_the_campaign(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    spring = await stack.client.submit(signal(Pattern.SPRING))  # 333 @ 148.50, stop 147.00
    assert spring.approved
    await settled(stack, CAMPAIGN, 2)
    await _poison_last_price(stack, "150.00")

    # The first target: the change that sells 166 shares cannot be saved, ever.
    await stack.client.send_price(CAMPAIGN, tick("150.00", 10))
    await persisted_status(stack, CAMPAIGN, CampaignStatus.QUARANTINED)

    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(select(campaigns).where(campaigns.c.campaign_id == CAMPAIGN))
        ).one()
        assert "CheckViolation" in row.quarantine_reason
        assert row.last_price is None  # the dropped change left nothing behind
        kinds = [
            r.data["kind"]
            for r in await conn.execute(
                select(audit_trail.c.data)
                .where(audit_trail.c.campaign_id == CAMPAIGN)
                .order_by(audit_trail.c.seq)
            )
        ]
        assert kinds[-1] == "CampaignQuarantined"
        assert "ExitsTriggered" not in kinds
        exposure = (
            await conn.execute(
                select(campaign_exposure).where(campaign_exposure.c.campaign_id == CAMPAIGN)
            )
        ).one()
        assert exposure.reserved_risk == 0

    # Not retried: the refused change was attempted once.
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(CAMPAIGN))
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "**AAPL-2024-10-15** · **QUARANTINED**" in metadata.current_details
    assert "**Quarantined**: revision 3 cannot be saved: CheckViolation" in (
        metadata.current_details
    )
    history = await handle.fetch_history()
    retried = [
        e.marker_recorded_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.HasField("failure")
    ]
    assert len(retried) == 1, retried

    # Entries are refused, with the reason; exits still run, on prices posted to the API.
    sos = await stack.client.submit(signal(Pattern.SOS))
    assert not sos.approved and sos.rejection_code is RejectionCode.CAMPAIGN_QUARANTINED
    stop = {"symbol": "AAPL", "as_of": "2024-10-15T14:50:00Z", "price": "146.90"}
    assert (await api.post("/api/v1/prices", json=stop)).status_code == 202
    await persisted_status(stack, CAMPAIGN, CampaignStatus.INVALIDATED)

    async def flat() -> bool:
        state = await stack.client.status(CAMPAIGN)
        return state is not None and all(p.open_shares == 0 for p in state.positions)

    await eventually(flat)
