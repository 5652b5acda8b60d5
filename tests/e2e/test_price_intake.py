"""Prices the API accepted are durable: an API whose publisher could not deliver them (here,
Temporal was unreachable from it) and which then stopped leaves them to the next API on the
same database, which delivers them: the stop they cross is taken. Two APIs on one database:
prices posted to either reach the campaign once, from the one that delivers, and from the other
once the first has stopped."""

import contextlib
import socket
from datetime import datetime

from sqlalchemy import select
from temporalio.client import Client

from campaign_engine.api import create_app
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.schema import orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.temporal.converter import data_converter
from campaign_engine.testing.builders import D, signal
from tests.e2e.api_fixtures import V1, api_client, app_client, ok, tick_now
from tests.support.harness import Stack, eventually, persisted_status


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
        assert accepted == {"accepted": 2, "too_old": 0, "held": 0}
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


class _Counting(CampaignClient):
    """The stack's client, noting every bar it delivered."""

    def __init__(self, stack: Stack, delivered: list[tuple[str, datetime]], name: str) -> None:
        base = stack.client
        super().__init__(base.temporal, policy=base.policy, task_queue=base.task_queue)
        self.delivered, self.name = delivered, name

    async def deliver_price(self, campaign_id: str, update: PriceUpdate) -> None:
        await super().deliver_price(campaign_id, update)
        self.delivered.append((self.name, update.as_of))


async def test_prices_posted_to_either_of_two_apis_reach_the_campaign_once(stack: Stack) -> None:
    plan = await stack.client.submit(signal(Pattern.SOS))  # 1,333 shares, stop 148.75
    await persisted_status(stack, plan.campaign_id, CampaignStatus.MARKUP)
    delivered: list[tuple[str, datetime]] = []
    clients = {name: _Counting(stack, delivered, name) for name in ("a", "b")}
    async with contextlib.AsyncExitStack() as a, contextlib.AsyncExitStack() as b:
        apis = {
            "a": await a.enter_async_context(
                api_client(stack.settings, clients["a"], stack.engine)
            ),
            "b": await b.enter_async_context(
                api_client(stack.settings, clients["b"], stack.engine)
            ),
        }
        for i, price in enumerate(["150.10", "150.20", "150.30", "150.40"]):
            name = "ab"[i % 2]
            await ok(await apis[name].post(f"{V1}/prices", json=[tick_now(price, i)]), 202)

        async def four_bars() -> bool:
            state = await stack.client.status(plan.campaign_id)
            return state is not None and state.last_price == D("150.40")

        await eventually(four_bars)
        (leader,) = {name for name, _ in delivered}  # one of them delivers all
        other = "b" if leader == "a" else "a"
        await (a if leader == "a" else b).aclose()  # the leader stops: the other takes over
        before = len(delivered)
        await ok(await apis[other].post(f"{V1}/prices", json=[tick_now("148.70", 5)]), 202)
        await persisted_status(stack, plan.campaign_id, CampaignStatus.COMPLETED)
    times = [as_of for _, as_of in delivered]
    assert times == sorted(set(times))  # no bar twice, none out of order
    assert {name for name, _ in delivered[:before]} == {leader}
    assert {name for name, _ in delivered[before:]} == {other}
