"""Prices the API accepted are durable: an API whose publisher could not deliver them (here,
Temporal was unreachable from it) and which then stopped leaves them to the next API on the
same database, which delivers them: the stop they cross is taken."""

import socket

from sqlalchemy import select
from temporalio.client import Client

from campaign_engine.api import create_app
from campaign_engine.client import CampaignClient
from campaign_engine.converter import data_converter
from campaign_engine.db.schema import orders
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from tests.e2e.api_fixtures import V1, api_client, app_client, ok, tick_now
from tests.support.builders import D, signal
from tests.support.harness import Stack, persisted_status


async def test_prices_accepted_by_an_api_that_stopped_reach_the_campaign(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS))  # 1,333 shares, stop 148.75
    await persisted_status(stack, plan.campaign_id, CampaignStatus.MARKUP)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{probe.getsockname()[1]}"
    cut_off = CampaignClient(
        await Client.connect(nowhere, lazy=True, data_converter=data_converter),
        policy=stack.settings.policy,
    )
    first = create_app(stack.settings, client=cut_off, engine=stack.engine)
    async with app_client(first) as api:
        accepted = await ok(
            await api.post(f"{V1}/prices", json=[tick_now("150.10"), tick_now("148.70", 0.5)]),
            202,
        )
        assert accepted == {"accepted": 2, "too_old": 0}
    before = await stack.client.status(plan.campaign_id)
    assert before is not None and before.status is CampaignStatus.MARKUP  # not delivered

    async with api_client(stack.settings, stack.client, stack.engine):
        await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED)
    async with stack.engine.connect() as conn:
        sells = (
            await conn.execute(
                select(orders.c.purpose, orders.c.quantity).where(orders.c.side == "SELL")
            )
        ).all()
    assert [tuple(s) for s in sells] == [("STOP", D(1333))]
