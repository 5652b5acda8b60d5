"""The REST API (SPEC section 8) over HTTP against the running stack: a real uvicorn serving the
app, the worker, the Temporal dev server and PostgreSQL. Live state and the read-model fallback,
health and OpenAPI, the token, and serving errors.

The ``api`` fixture (tests/e2e/conftest.py) serves the app over the test's stack."""

import re
import socket

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from temporalio.client import Client

from campaign_engine.api import ServeError, create_app, serve_api
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime.settings import Settings
from campaign_engine.temporal.converter import data_converter
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import (
    CAMPAIGN,
    V1,
    api_client,
    app_client,
    body,
    ok,
    submit,
    tick_now,
)
from tests.support.harness import Stack, eventually, settled

# --- live state, fallbacks, health ---------------------------------------------------------


async def test_live_state_where_fresher_and_the_read_model_when_temporal_is_gone(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    await submit(api, signal(Pattern.SPRING))
    await settled(stack, CAMPAIGN, 2)
    # 149 crosses nothing (stop 147, first target 150): no new version, nothing written,
    # yet the workflow has taken it.
    await ok(await api.post(f"{V1}/prices", json=tick_now("149.00")), 202)

    async def price_taken() -> bool:
        found = (await api.get(f"{V1}/campaigns/{CAMPAIGN}")).json()
        return bool(found["last_price"] == "149")

    await eventually(price_taken)
    live = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}"))
    assert (live["source"], live["version"]) == ("workflow", 2)
    assert live["last_price_at"] is not None
    positions = await ok(await api.get(f"{V1}/campaigns/{CAMPAIGN}/positions"))
    assert positions["source"] == "workflow"
    assert (positions["unrealized_pnl"], positions["total_pnl"], positions["r_multiple"]) == (
        "166.5",  # (149 - 148.50) x 333
        "166.5",
        "0.3333",
    )
    assert positions["positions"][0]["unrealized_pnl"] == "166.5"
    async with stack.engine.connect() as conn:
        row = (
            await conn.execute(
                select(campaigns.c.version, campaigns.c.last_price).where(
                    campaigns.c.campaign_id == CAMPAIGN
                )
            )
        ).one()
    assert (row.version, row.last_price) == (2, None)

    gone = await Client.connect("127.0.0.1:1", lazy=True, data_converter=data_converter)
    unreachable = CampaignClient(gone, task_queue=stack.settings.task_queue)
    async with api_client(stack.settings, unreachable, stack.engine) as offline:
        stored = await ok(await offline.get(f"{V1}/campaigns/{CAMPAIGN}"))
        assert (stored["source"], stored["version"], stored["last_price"]) == (
            "read_model",
            2,
            None,
        )
        listed = await ok(await offline.get(f"{V1}/campaigns"))
        assert listed["pagination"]["total_count"] == 1
        health = await offline.get("/healthz")
        assert health.status_code == 503
        assert (health.json()["status"], health.json()["database"]) == ("unavailable", "ok")
        assert health.json()["temporal"].startswith("unreachable")
        refused = await offline.post(f"{V1}/signals", json=body(signal(Pattern.SOS)))
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("Temporal is unavailable")

    broken = create_engine_for("postgresql://postgres@127.0.0.1:1/none", pool_size=1)
    try:
        async with api_client(stack.settings, stack.client, broken) as no_database:
            health = await no_database.get(f"{V1}/healthz")
            assert health.status_code == 503
            assert (health.json()["temporal"], health.json()["status"]) == ("ok", "unavailable")
            assert health.json()["database"].startswith("unreachable")
            listing = await no_database.get(f"{V1}/campaigns")
            assert listing.status_code == 503
            assert listing.json()["detail"].startswith("the database is unavailable")
    finally:
        await broken.dispose()


async def test_health_and_openapi(stack: Stack, api: httpx.AsyncClient) -> None:
    healthy = {"status": "ok", "temporal": "ok", "database": "ok"}
    for path in ("/healthz", f"{V1}/healthz"):
        assert await ok(await api.get(path)) == healthy
    # Given only settings, the server connects to Temporal and the database itself.
    target = stack.client.temporal.service_client.config.target_host
    alone = stack.settings.model_copy(update={"temporal_address": target})
    async with api_client(alone) as served:
        assert await ok(await served.get("/healthz")) == healthy
        assert (await ok(await served.get(f"{V1}/portfolio")))["equity"] == "100000"
    async with app_client(create_app(alone)) as app:
        assert await ok(await app.get("/healthz")) == healthy
        assert await ok(await app.post(f"{V1}/prices", json=tick_now("149")), 202) == {
            "accepted": 1,
            "too_old": 0,
            "held": 0,
        }
    docs = await api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = await ok(await api.get("/openapi.json"))
    assert set(spec["paths"]) == {
        f"{V1}/signals",
        f"{V1}/signals/batch",
        f"{V1}/prices",
        f"{V1}/campaigns",
        f"{V1}/campaigns/{{campaign_id}}",
        f"{V1}/campaigns/{{campaign_id}}/positions",
        f"{V1}/campaigns/{{campaign_id}}/allocations",
        f"{V1}/campaigns/{{campaign_id}}/events",
        f"{V1}/campaigns/{{campaign_id}}/bars",
        f"{V1}/campaigns/{{campaign_id}}/invalidate",
        f"{V1}/decisions",
        f"{V1}/prices/held",
        f"{V1}/prices/held/{{hold_id}}/release",
        f"{V1}/prices/held/{{hold_id}}/discard",
        f"{V1}/portfolio",
        f"{V1}/portfolio/history",
        f"{V1}/portfolio/trading-state",
        f"{V1}/policy",
        f"{V1}/healthz",
        "/healthz",
    }
    schemas = spec["components"]["schemas"]
    assert schemas["CampaignDetailOut"]["properties"]["total_allocation"]["type"] == "string"
    assert schemas["AllocationPlanOut"]["properties"]["shares"]["type"] == "string"
    # Without API_TOKEN no token is checked, so none is declared (with one: below).
    assert "securitySchemes" not in spec["components"]
    assert "security" not in spec["paths"][f"{V1}/signals"]["post"]


# --- auth ----------------------------------------------------------------------------------


async def test_a_token_guards_every_mutation_and_only_mutations(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"api_token": SecretStr("s3cret")})
    entry = body(signal(Pattern.SPRING))
    mutations = [
        ("POST", f"{V1}/signals", entry),
        ("POST", f"{V1}/signals/batch", [entry]),
        ("POST", f"{V1}/prices", tick_now("149")),
        ("POST", f"{V1}/campaigns/{CAMPAIGN}/invalidate", {"reason": "x"}),
        ("PATCH", f"{V1}/campaigns/{CAMPAIGN}", {"status": "MARKUP", "version": 1}),
        ("PUT", f"{V1}/portfolio/trading-state", {"state": "HALTED"}),
        ("POST", f"{V1}/signals", {"not": "a signal"}),  # 401 before any validation
    ]
    async with api_client(settings, stack.client, stack.engine) as api:
        spec = await ok(await api.get("/openapi.json"))
        assert spec["components"]["securitySchemes"]["API_TOKEN"]["scheme"] == "bearer"
        assert "security" in spec["paths"][f"{V1}/signals"]["post"]
        assert "security" not in spec["paths"][f"{V1}/campaigns"]["get"]
        for method, path, payload in mutations:
            for header, expected in (
                (None, "missing bearer token"),
                ("Bearer wrong", "invalid bearer token"),
                ("Bearer s3cre", "invalid bearer token"),
                ("Basic czNjcmV0", "missing bearer token"),
            ):
                headers = {"Authorization": header} if header else {}
                response = await api.request(method, path, json=payload, headers=headers)
                assert response.status_code == 401, (method, path, header, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert expected in response.json()["detail"]
        listed = await ok(await api.get(f"{V1}/campaigns"))  # reads need no token
        assert listed["pagination"]["total_count"] == 0  # nothing got through

        authorized = {"Authorization": "Bearer s3cret"}
        plan = await ok(await api.post(f"{V1}/signals", json=entry, headers=authorized))
        assert plan["approved"] is True
        await settled(stack, CAMPAIGN, 2)
        for path in (f"{V1}/campaigns/{CAMPAIGN}", f"{V1}/portfolio", "/healthz"):
            await ok(await api.get(path))
        changed = await api.patch(
            f"{V1}/campaigns/{CAMPAIGN}",
            json={"status": "MARKUP", "version": 2},
            headers=authorized,
        )
        assert (await ok(changed))["status"] == "MARKUP"


async def test_serving_fails_with_a_clear_error_when_it_cannot_start() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=re.escape(f"cannot listen on 127.0.0.1:{port}")):
            await serve_api(Settings(), port=port)
    nowhere = Settings(temporal_address="127.0.0.1:1", metrics_port=None)
    with pytest.raises(ServeError, match=re.escape("cannot reach Temporal at 127.0.0.1:1")):
        await serve_api(nowhere, port=0)
