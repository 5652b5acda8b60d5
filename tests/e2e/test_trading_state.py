"""The trading state end to end (SPEC section 11), with ``max_daily_loss_pct = 3`` in the
policy: a stop-out that loses past the limit halts the portfolio (its event in the audit
trail, GET /portfolio says HALTED), the next signal is refused TRADING_HALTED while an open
campaign's exits still run, and an operator's PUT returns it to ACTIVE, after which the next
signal is approved."""

from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from campaign_engine.db.schema import audit_trail
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern, RejectionCode
from campaign_engine.testing.builders import signal, trading_range
from tests.e2e.api_fixtures import V1, body, ok, tick_now
from tests.support.harness import Stack, eventually, persisted_status

D = Decimal


@pytest.fixture
def configured_policy() -> Policy:
    return Policy(max_daily_loss_pct=D(3))


def _spring(symbol: str) -> dict[str, object]:
    return body(signal(Pattern.SPRING, rng=trading_range(symbol=symbol, range_id=RANGES[symbol])))


RANGES = {symbol: uuid4() for symbol in ("AAPL", "MSFT", "NVDA")}


async def _state(api: httpx.AsyncClient) -> str:
    return str((await ok(await api.get(f"{V1}/portfolio")))["trading_state"])


async def test_a_loss_past_the_daily_limit_halts_entries_not_exits_until_an_operator_lifts_it(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    # Two Springs, 333 shares @ 148.50 (stop 147.00) each, filled at once by the paper broker.
    for symbol in ("AAPL", "MSFT"):
        plan = await ok(await api.post(f"{V1}/signals", json=_spring(symbol)))
        assert plan["approved"], plan
    assert await _state(api) == "ACTIVE"
    assert (await ok(await api.get(f"{V1}/portfolio/trading-state")))["trading_state"] == "ACTIVE"

    # MSFT gaps to 130: -6,160.50, 6.16% of the day's opening 100,000.
    await ok(await api.post(f"{V1}/prices", json=tick_now("130", symbol="MSFT")), 202)

    async def halted() -> bool:
        return await _state(api) == "HALTED"

    await eventually(halted)
    portfolio = await ok(await api.get(f"{V1}/portfolio"))
    assert "daily loss 6.1605" in portfolio["trading_state_reason"]
    async with stack.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(audit_trail.c.event_type, audit_trail.c.data).where(
                    audit_trail.c.campaign_id == "portfolio"
                )
            )
        ).all()
    assert [(r.event_type, r.data["state"], r.data["by"]) for r in rows] == [
        ("TradingStateChanged", "HALTED", "limit")
    ]

    # New entries are refused ...
    refused = await ok(await api.post(f"{V1}/signals", json=_spring("NVDA")))
    assert not refused["approved"]
    assert refused["rejection_code"] == RejectionCode.TRADING_HALTED
    # ... while the open AAPL campaign still exits: its stop fills.
    await ok(await api.post(f"{V1}/prices", json=tick_now("146.90", symbol="AAPL")), 202)
    await persisted_status(stack, "AAPL-2024-10-15", CampaignStatus.INVALIDATED)
    aapl = await ok(await api.get(f"{V1}/campaigns/AAPL-2024-10-15/positions"))
    assert aapl["open_positions_count"] == 0

    # A bad value is refused and changes nothing; the operator returns it to ACTIVE.
    bad = await api.put(f"{V1}/portfolio/trading-state", json={"state": "PAUSED"})
    assert bad.status_code == 422 and "state" in bad.text
    assert await _state(api) == "HALTED"
    lifted = await ok(
        await api.put(
            f"{V1}/portfolio/trading-state", json={"state": "active", "reason": "reviewed"}
        )
    )
    assert (lifted["trading_state"], lifted["trading_state_reason"]) == ("ACTIVE", "reviewed")
    approved = await ok(await api.post(f"{V1}/signals", json=_spring("NVDA")))
    assert approved["approved"], approved
