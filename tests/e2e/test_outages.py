"""Outages: every mutation answers within its bound (the decision, or 503 with Retry-After
and what is down), and a signal asked for during an outage is decided once it ends: the
caller retrying with the same signal_id gets that decision."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from campaign_engine.api import create_app
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.migrate import migrate
from campaign_engine.db.price_deliveries import Restored
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.private_postgres import PrivatePostgres, private_postgres
from campaign_engine.temporal.converter import data_converter
from campaign_engine.testing.builders import signal
from tests.e2e.api_fixtures import V1, api_client, app_client, body, ok, tick_now
from tests.support.harness import Stack

BOUND = 3.0  # seconds: the tests' mutation_timeout
SLACK = 2.5  # seconds on top: asking what is down, and a loaded machine


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with private_postgres() as pg:
        yield pg


@pytest.fixture
def database_url(server: PrivatePostgres) -> str:
    """The stack's database is the test's own server, which the test stops."""
    migrate(server.url)
    return server.url


def _bounded(stack: Stack) -> Settings:
    return stack.settings.model_copy(update={"mutation_timeout": BOUND})


async def _timed_post(api: httpx.AsyncClient, path: str, json: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await api.post(path, json=json)
    return response, time.monotonic() - started


async def test_a_signal_during_a_database_outage_is_pending_then_decided(
    stack: Stack, server: PrivatePostgres
) -> None:
    entry = signal(Pattern.SOS)
    async with api_client(_bounded(stack), stack.client, stack.engine) as api:
        server.stop()
        response, took = await _timed_post(api, f"{V1}/signals", body(entry))
        assert response.status_code == 503, response.text
        assert took < BOUND + SLACK
        assert response.headers["Retry-After"] == "5"
        detail = response.json()["detail"]
        assert "database" in detail and "same signal_id" in detail
        # Still down: the retry is pending too, and answers as soon.
        again, took = await _timed_post(api, f"{V1}/signals", body(entry))
        assert again.status_code == 503 and took < BOUND + SLACK

        server.start()
        deadline = time.monotonic() + 90
        while (answer := await api.post(f"{V1}/signals", json=body(entry))).status_code == 503:
            assert time.monotonic() < deadline, answer.text
            await asyncio.sleep(1)
        assert answer.status_code == 200, answer.text
        plan = answer.json()
        assert plan["signal_id"] == str(entry.signal_id) and plan["approved"] is True
        # The one decision, however often it was asked for.
        assert (await api.post(f"{V1}/signals", json=body(entry))).json() == plan


async def test_an_operator_command_during_a_database_outage_answers_in_time(
    stack: Stack, server: PrivatePostgres
) -> None:
    async with api_client(_bounded(stack), stack.client, stack.engine) as api:
        plan = (await api.post(f"{V1}/signals", json=body(signal(Pattern.SOS)))).json()
        campaign = f"{V1}/campaigns/{plan['campaign_id']}"
        server.stop()
        response, took = await _timed_post(api, f"{campaign}/invalidate", {"reason": "outage"})
        assert response.status_code == 503, response.text
        assert took < BOUND + SLACK
        assert response.headers["Retry-After"] == "5"
        server.start()

        async def invalidated() -> bool:
            read = await api.get(campaign)
            return read.status_code == 200 and read.json()["status"] == "INVALIDATED"

        deadline = time.monotonic() + 90
        while not await invalidated():  # the command took effect after the outage
            assert time.monotonic() < deadline
            await asyncio.sleep(1)


async def test_prices_during_a_database_outage_are_refused_not_half_accepted(
    stack: Stack, server: PrivatePostgres
) -> None:
    async with api_client(_bounded(stack), stack.client, stack.engine) as api:
        server.stop()
        response, took = await _timed_post(api, f"{V1}/prices", [tick_now("150.00")])
        assert response.status_code == 503, response.text
        assert took < BOUND + SLACK
        assert response.headers["Retry-After"] == "5"
        assert "database" in response.json()["detail"]
        server.start()
        assert await PriceIntake(stack.engine).restore() == Restored()  # nothing was kept
        await ok(await api.post(f"{V1}/prices", json=[tick_now("150.00")]), 202)
        assert len((await PriceIntake(stack.engine).restore()).rows) == 1


@pytest.fixture
async def unreachable_temporal() -> AsyncIterator[str]:
    """An address that takes connections and never answers (a host behind a dead link)."""
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{silent.getsockname()[1]}"
    finally:
        silent.close()


@pytest.mark.parametrize("kind", ["refusing", "silent"])
async def test_an_unreachable_temporal_answers_503_in_time(
    database_url: str, unreachable_temporal: str, kind: str
) -> None:
    address = unreachable_temporal
    if kind == "refusing":
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            address = f"127.0.0.1:{probe.getsockname()[1]}"
    temporal = await Client.connect(address, lazy=True, data_converter=data_converter)
    settings = Settings(database_url=database_url, metrics_port=None, mutation_timeout=BOUND)
    engine = create_engine_for(database_url, pool_size=2)
    await CampaignRepository(engine).ensure_portfolio(settings.account_equity)
    app = create_app(settings, client=CampaignClient(temporal), engine=engine)
    try:
        async with app_client(app) as api:
            for path, payload in [
                (f"{V1}/signals", body(signal(Pattern.SOS))),
                (f"{V1}/signals/batch", [body(signal(Pattern.SOS))]),
                (f"{V1}/campaigns/AAPL-2024-10-15/invalidate", {"reason": "test"}),
            ]:
                response, took = await _timed_post(api, path, payload)
                assert response.status_code == 503, (path, response.text)
                assert took < BOUND + SLACK
                assert response.headers["Retry-After"] == "5"
                assert "Temporal" in response.json()["detail"]
    finally:
        await engine.dispose()


async def test_a_temporal_that_cannot_take_a_signal_is_an_outage_not_a_refusal(
    temporal: Any,
) -> None:
    """The server answering an error of its own (here: no such namespace) is not the
    campaign refusing the signal: the caller gets the error (503 at the API) and retries."""
    target = temporal.client.service_client.config.target_host
    elsewhere = await Client.connect(
        target, namespace="no-such-namespace", data_converter=data_converter
    )
    client = CampaignClient(elsewhere, task_queue="nowhere")
    with pytest.raises(RPCError):
        await client.submit(signal(Pattern.SPRING))
