"""The REST API (SPEC section 8) over HTTP against the running stack: a real uvicorn serving the
app, the worker, the Temporal dev server and PostgreSQL. Operator commands (PATCH, invalidate)
and their 404/409/422, a refused first signal, and bad input named field by field.

The ``api`` fixture (tests/e2e/conftest.py) serves the app over the test's stack."""

from uuid import uuid4

import httpx
from sqlalchemy import func, select

from campaign_engine.db.schema import allocation_plans, campaign_snapshots, campaigns
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import (
    CAMPAIGN,
    UNKNOWN,
    V1,
    body,
    locs,
    ok,
    submit,
    tick_now,
)
from tests.support.harness import Stack, persisted_status, settled

# --- operator commands ---------------------------------------------------------------------


async def test_patch_and_invalidate_answer_404_409_422(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    path = f"{V1}/campaigns/{CAMPAIGN}"

    conflict = await api.patch(path, json={"status": "MARKUP", "version": 1})
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "campaign is at version 2, not 1"}
    not_allowed = await api.patch(path, json={"status": "COMPLETED", "version": 2})
    assert not_allowed.status_code == 422 and isinstance(not_allowed.json()["detail"], str)
    malformed = await api.patch(path, json={"status": "SLEEPING", "version": 0, "by": "me"})
    assert sorted(locs(malformed)) == [["body", "by"], ["body", "status"], ["body", "version"]]

    # No API_TOKEN: mutations need no token, and a stray header does no harm.
    changed = await ok(
        await api.patch(
            path,
            json={"status": "markup", "version": 2},
            headers={"Authorization": "Bearer anything"},
        )
    )
    assert (changed["status"], changed["phase"], changed["version"]) == ("MARKUP", "MARKUP", 3)

    assert locs(await api.post(f"{path}/invalidate", json={"reason": "   "})) == [
        ["body", "reason"]
    ]
    assert locs(await api.post(f"{path}/invalidate", json={})) == [["body", "reason"]]
    invalidated = await ok(await api.post(f"{path}/invalidate", json={"reason": "range broken"}))
    assert (invalidated["status"], invalidated["invalidation_reason"]) == (
        "INVALIDATED",
        "range broken",
    )
    again = await api.post(f"{path}/invalidate", json={"reason": "range broken"})
    assert again.status_code == 422
    assert again.json() == {"detail": f"campaign {CAMPAIGN} is already INVALIDATED"}
    late = await api.patch(path, json={"status": "MARKUP", "version": 4})
    assert late.status_code == 422

    await persisted_status(stack, CAMPAIGN, CampaignStatus.INVALIDATED)
    listed = await ok(await api.get(f"{V1}/campaigns", params={"status": "invalidated"}))
    assert [c["campaign_id"] for c in listed["data"]] == [CAMPAIGN]
    events = (await ok(await api.get(f"{path}/events")))["events"]
    assert [e["type"] for e in events] == [
        "CampaignCreated",
        "PositionOpened",
        "CampaignUpdated",
        "CampaignInvalidated",
        "ExitExecuted",
        "CampaignUpdated",  # all positions exited
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5, 5]

    missing = {"detail": f"there is no campaign {UNKNOWN}"}
    for suffix in ("", "/positions", "/allocations", "/events"):
        response = await api.get(f"{V1}/campaigns/{UNKNOWN}{suffix}")
        assert (response.status_code, response.json()) == (404, missing)
    response = await api.patch(f"{V1}/campaigns/{UNKNOWN}", json={"status": "MARKUP", "version": 1})
    assert (response.status_code, response.json()) == (404, missing)
    response = await api.post(f"{V1}/campaigns/{UNKNOWN}/invalidate", json={"reason": "x"})
    assert (response.status_code, response.json()) == (404, missing)


async def test_a_refused_first_signal_makes_no_campaign(api: httpx.AsyncClient) -> None:
    plan = await submit(api, signal(Pattern.LPS, confidence=72))  # sole LPS needs 75
    assert (plan["approved"], plan["rejection_code"]) == (False, "LOW_CONFIDENCE")
    for suffix in ("", "/positions", "/allocations", "/events"):
        assert (await api.get(f"{V1}/campaigns/{CAMPAIGN}{suffix}")).status_code == 404
    listed = await ok(await api.get(f"{V1}/campaigns"))
    assert listed["pagination"]["total_count"] == 0


# --- bad input -----------------------------------------------------------------------------


async def test_bad_input_names_every_field_and_writes_nothing(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    good = body(signal(Pattern.SPRING))
    fields = {
        **{k: v for k, v in good.items() if k != "signal_id"},
        "confidence": 150,
        "entry_price": "a lot",
        "generated_at": "2024-10-15T14:30:00",  # no time zone
    }
    response = await api.post(f"{V1}/signals", json=fields)
    assert sorted(locs(response)) == [
        ["body", "confidence"],
        ["body", "entry_price"],
        ["body", "generated_at"],
        ["body", "signal_id"],
    ]
    by_field = {tuple(e["loc"]): e for e in response.json()["detail"]}
    assert by_field[("body", "confidence")]["msg"] == "Input should be less than or equal to 100"
    assert by_field[("body", "entry_price")]["input"] == "a lot"

    stop_above = await api.post(f"{V1}/signals", json={**good, "stop_loss": "149.00"})
    [error] = stop_above.json()["detail"]
    assert error["msg"] == (
        "stop_loss 149.00 must be below entry_price 148.50 (campaigns are long only)"
    )

    in_batch = await api.post(
        f"{V1}/signals/batch", json=[good, {**good, "signal_id": str(uuid4()), "pattern": "X"}]
    )
    assert locs(in_batch) == [["body", 1, "pattern"]]
    not_json = await api.post(
        f"{V1}/signals", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422

    negative = await api.post(f"{V1}/prices", json={**tick_now("1"), "price": "-1"})
    assert locs(negative) == [["body", "price"]]
    assert negative.json()["detail"][0]["msg"] == "Input should be greater than 0"
    second_bad = await api.post(f"{V1}/prices", json=[tick_now("149"), {"symbol": "AAPL"}])
    assert locs(second_bad) == [["body", 1, "as_of"]]
    bar = {"symbol": "AAPL", "as_of": tick_now("1")["as_of"]}
    inverted = await api.post(
        f"{V1}/prices", json={**bar, "open": "10", "high": "11", "low": "12", "close": "10"}
    )
    assert "low <= open, close <= high" in inverted.json()["detail"][0]["msg"]

    async with stack.engine.connect() as conn:
        for table in (campaigns, allocation_plans, campaign_snapshots):
            count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == 0, table.name
    started = [
        w
        async for w in stack.client.temporal.list_workflows(
            f"TaskQueue = '{stack.settings.task_queue}'"
        )
    ]
    assert started == []
