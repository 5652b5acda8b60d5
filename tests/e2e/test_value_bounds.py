"""SPEC section 11's value domain at its edges, through the real API, Temporal and PostgreSQL:
each value at a bound is carried all the way (the decision, the campaign row, the order in the
database and at the broker); each value one step past it is refused with a 422 naming the
field, and, sent straight to the workflow, refused by its validator or dropped and counted.
Nothing an edge accepts can fail further in."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from campaign_engine.db.schema import broker_orders, campaigns, orders
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.testing.builders import signal, trading_range
from tests.support.harness import Stack, eventually

MAX = "1000000000"
LATEST = "2200-12-31T23:59:59Z"


def _signal(**changes: Any) -> dict[str, Any]:
    """A Spring of its own range (so its own campaign), changed by ``changes``: keys of the
    signal, or ``range.<key>`` for its trading range."""
    rng = trading_range(symbol=f"V{uuid4().hex[:6].upper()}", range_id=uuid4())
    body: dict[str, Any] = signal(Pattern.SPRING, rng=rng).model_dump(mode="json")
    for key, value in changes.items():
        if key.startswith("range."):
            body["trading_range"][key.removeprefix("range.")] = value
        else:
            body[key] = value
    if "timeframe" in changes:
        body["trading_range"]["timeframe"] = changes["timeframe"]
    return body


HIGHEST = {
    "range.creek": "999999990",
    "range.ice": "999999995",
    "range.jump": MAX,
    "entry_price": "999999994",
    "stop_loss": "999999993",
}
LOWEST = {
    "range.creek": "0.00000003",
    "range.ice": "0.00000005",
    "range.jump": "0.00000008",
    "entry_price": "0.00000002",
    "stop_loss": "0.00000001",
}

AT_THE_BOUNDS = {
    "the highest price": HIGHEST,
    "the lowest price": LOWEST,
    "the latest time": {"generated_at": LATEST, "range.start_time": LATEST},
    "the earliest time": {"generated_at": "1970-01-01T00:00:00Z"},
    "the longest bar": {"timeframe": "4w"},
    "full confidence": {"confidence": "100"},
    "the largest r multiple": {"r_multiple": "1000"},
    "all of the equity asked for": {"requested_risk_pct": "100"},
}
PAST_THE_BOUNDS = {
    "a price above the highest": ({**HIGHEST, "range.jump": "1000000000.00000001"}, "jump"),
    "a price finer than 8 places": ({"entry_price": "148.500000001"}, "entry_price"),
    "a time after 2200": ({"generated_at": "2201-01-01T00:00:00Z"}, "generated_at"),
    "a time before 1970": ({"generated_at": "1969-12-31T23:59:59Z"}, "generated_at"),
    "a time past the calendar": ({"generated_at": "9999-12-31T23:59:59-23:59"}, "generated_at"),
    "a bar of five weeks": ({"timeframe": "5w"}, "timeframe"),
    "confidence above 100": ({"confidence": "100.01"}, "confidence"),
    "an r multiple above 1000": ({"r_multiple": "1000.01"}, "r_multiple"),
    "more than all of the equity": ({"requested_risk_pct": "100.00000001"}, "requested_risk_pct"),
}


async def _carried(stack: Stack, campaign_id: str, entry: str) -> None:
    async def everywhere() -> bool:
        async with stack.engine.connect() as conn:
            row = (
                await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
            ).first()
            order = (
                await conn.execute(
                    select(orders.c.limit_price).where(orders.c.campaign_id == campaign_id)
                )
            ).first()
            at_broker = (
                await conn.execute(
                    select(broker_orders.c.status).where(
                        broker_orders.c.client_order_id == f"{campaign_id}:SPRING:ENTRY"
                    )
                )
            ).first()
        return (
            row is not None
            and order is not None
            and f"{order.limit_price:f}".rstrip("0").rstrip(".") == entry.rstrip("0").rstrip(".")
            and at_broker is not None
        )

    await eventually(everywhere)


@pytest.mark.parametrize("changes", AT_THE_BOUNDS.values(), ids=AT_THE_BOUNDS.keys())
async def test_a_signal_at_a_bound_is_carried_to_the_database_and_the_broker(
    stack: Stack, api: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    body = _signal(**changes)
    response = await api.post("/api/v1/signals", json=body)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["approved"], plan
    await _carried(stack, plan["campaign_id"], body["entry_price"])


@pytest.mark.parametrize(("changes", "field"), PAST_THE_BOUNDS.values(), ids=PAST_THE_BOUNDS.keys())
async def test_a_signal_past_a_bound_is_refused_at_every_edge(
    stack: Stack, api: httpx.AsyncClient, changes: dict[str, str], field: str
) -> None:
    body = _signal(**changes)
    response = await api.post("/api/v1/signals", json=body)
    assert response.status_code == 422, response.text
    assert any(field in ".".join(map(str, p["loc"])) for p in response.json()["detail"])
    assert len(response.text) < 2_000  # a short answer, whatever was sent

    # Straight to the workflow, past the API: its validator refuses it before history.
    campaign_id = f"{body['symbol']}-2024-10-15"
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))
    await stack.client.submit(signal(Pattern.SPRING, rng=trading_range(symbol=body["symbol"])))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("submit_signal", body)
    assert field in str(refused.value.cause)


async def test_prices_and_commands_at_and_past_their_bounds(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    plan = (await api.post("/api/v1/signals", json=_signal(**HIGHEST))).json()
    campaign_id, symbol = plan["campaign_id"], plan["symbol"]
    await _carried(stack, campaign_id, HIGHEST["entry_price"])
    handle = stack.client.temporal.get_workflow_handle(workflow_id_for(campaign_id))

    def price(**changes: Any) -> dict[str, Any]:
        return {"symbol": symbol, "as_of": "2024-10-15T15:00:00Z", "price": MAX, **changes}

    for bad, field in (
        (price(price="1000000000.00000001"), "price"),
        (price(price="0.000000001"), "price"),
        (price(as_of="2201-01-01T00:00:00Z"), "as_of"),
        (price(sequence=2**63), "sequence"),
    ):
        response = await api.post("/api/v1/prices", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert field in str(response.json()["detail"])
        await handle.signal("price_update", bad)  # straight to the workflow: dropped, counted
    dropped: int = await handle.query("dropped_signals")
    assert dropped == 4

    for bad, field in (({"reason": "x" * 501}, "reason"), ({"reason": "a\x07b"}, "reason")):
        response = await api.post(f"/api/v1/campaigns/{campaign_id}/invalidate", json=bad)
        assert response.status_code == 422 and field in response.text
    patch = await api.patch(
        f"/api/v1/campaigns/{campaign_id}", json={"status": "MARKUP", "version": 2**31}
    )
    assert patch.status_code == 422 and "version" in patch.text

    # At the bounds: the highest price at the latest time and the largest sequence are taken.
    # It reaches the first two targets (ice 999,999,995 and jump 10^9; the third, ice + 1.5M,
    # is a held price above what an edge accepts): their sells are carried to the database
    # and the broker, 250 and 150 of the 500 shares bought at 999,999,994 risking 1 each.
    at_bounds = price(as_of=LATEST, sequence=2**63 - 1)
    assert (await api.post("/api/v1/prices", json=at_bounds)).status_code == 202

    async def sold() -> bool:
        async with stack.engine.connect() as conn:
            sells = (
                await conn.execute(
                    select(broker_orders.c.quantity).where(
                        broker_orders.c.symbol == symbol, broker_orders.c.side == "SELL"
                    )
                )
            ).all()
        return sorted(q for (q,) in sells) == [150, 250]

    await eventually(sold, timeout=30)
    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
        ).one()
    assert f"{row.last_price:f}" == "1000000000.00000000"
    assert row.last_price_at.year == 2200
