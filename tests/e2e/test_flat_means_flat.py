"""Flat means flat, through the running stack with the simulated broker's wash-trade rule on
(issue 22): one campaign's resting buy on a symbol makes the broker refuse another campaign's
exit on it. The invalidated campaign's exit waits its bound, is refused until its attempts run
out, and is not abandoned: it shows it waits to be flat and offers the shares again after the
backoff, and once the other buy is gone it sells them and ends flat."""

import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.db.schema import audit_trail
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import T0, bar, signal, trading_range
from tests.e2e.api_fixtures import V1, ok, submit
from tests.e2e.test_sim_broker import _booked, _post, api, sim_config, sim_stack
from tests.support.harness import Stack, eventually

D = Decimal
__all__ = ["api", "sim_config", "sim_stack"]  # the fixtures this module uses


async def _kinds(stack: Stack, campaign_id: str) -> list[str]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_trail.c.data["kind"].astext)
            .where(audit_trail.c.campaign_id == campaign_id)
            .order_by(audit_trail.c.seq)
        )
        return [r[0] for r in rows]


@pytest.mark.parametrize("sim_config", [SimConfig(wash_trade_rule=True)], indirect=True)
async def test_an_exit_refused_for_another_campaigns_buy_is_retried_until_flat(
    sim_stack: Stack, api: httpx.AsyncClient
) -> None:
    stack = sim_stack
    sim = SimBroker(stack.engine, stack.settings.sim)
    held = await submit(api, signal(Pattern.SPRING))  # 333 at 148.50, stop 147.00
    holder = held["campaign_id"]

    async def placed(client_order_id: str) -> bool:
        return await _booked(stack, client_order_id) is not None

    await eventually(lambda: placed(f"{holder}:SPRING:ENTRY"))
    await _post(api, bar("149.00", "149.40", "148.20", "148.80", 20))  # fills it whole

    async def bought() -> bool:
        return await sim.position("AAPL") == D(333)

    await eventually(bought)

    # Another campaign on AAPL, a range lower, rests a buy at 138.50 that nothing reaches.
    lower = trading_range(
        creek="134.00",
        ice="140.00",
        jump="146.00",
        range_id=uuid.uuid4(),
        start=T0 - timedelta(days=1),
    )
    resting = await submit(api, signal(Pattern.SPRING, entry="138.50", stop="137.00", rng=lower))
    other = resting["campaign_id"]
    assert other != holder
    await eventually(lambda: placed(f"{other}:SPRING:ENTRY"))

    # The holder's range breaks: its market sell could trade against the resting buy.
    await _post(api, bar("147.50", "147.60", "146.50", "146.80", 30))

    async def waits_to_be_flat() -> bool:
        answer = await ok(await api.get(f"{V1}/campaigns/{holder}"))
        kinds = await _kinds(stack, holder)
        return bool(answer["awaiting_flat"]) and kinds.count("ExitOrderFailed") >= 3

    await eventually(waits_to_be_flat, timeout=60)
    assert await sim.position("AAPL") == D(333)  # refused: still held

    # The other campaign gives up its entry; the holder's next try (after the backoff, no
    # price needed) sells, and it ends flat.
    await ok(await api.post(f"{V1}/campaigns/{other}/invalidate", json={"reason": "done"}))

    async def flat() -> bool:
        state = await stack.client.status(holder)
        return (
            state is not None
            and state.status is CampaignStatus.INVALIDATED
            and state.closed_at is not None
            and await sim.position("AAPL") == D(0)
        )

    await eventually(flat, timeout=60)
    kinds = await _kinds(stack, holder)
    assert "FlatteningRetried" in kinds
    assert kinds[-1] == "AllPositionsExited"
