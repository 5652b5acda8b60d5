"""Portfolio limits hold across campaigns deciding at the same instant."""

import asyncio
from decimal import Decimal
from uuid import UUID

from sqlalchemy import func, select

from campaign_engine.db.schema import campaign_exposure, risk_reservations
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import Pattern, RejectionCode
from campaign_engine.testing.builders import signal, trading_range
from tests.support.harness import Stack

D = Decimal


async def test_fifty_campaigns_at_once_never_pass_ten_percent_heat(stack: Stack) -> None:
    # Each SOS with its Spring skipped asks for the 2% trade maximum: five fit in 10% heat.
    signals = [
        signal(
            Pattern.SOS,
            rng=trading_range(symbol=f"S{i:02d}", range_id=UUID(int=1000 + i)),
        )
        for i in range(50)
    ]
    plans = await asyncio.gather(*(stack.client.submit(s) for s in signals))
    approved = [p for p in plans if p.approved]
    refused = [p for p in plans if not p.approved]
    assert len(approved) == 5
    assert {p.rejection_code for p in refused} == {RejectionCode.PORTFOLIO_HEAT}
    assert sum(p.actual_risk_pct for p in approved) <= D("10")
    # Each approval saw the ones before it: the heat it reports grows to at most 10%.
    heats = sorted(p.heat_after_pct for p in approved if p.heat_after_pct is not None)
    assert heats[-1] <= D("10") and len(set(heats)) == 5
    async with stack.engine.connect() as conn:
        reserved = (
            await conn.execute(
                select(func.sum(campaign_exposure.c.open_risk + campaign_exposure.c.reserved_risk))
            )
        ).scalar_one()
        decided = (
            await conn.execute(select(func.count()).select_from(risk_reservations))
        ).scalar_one()
    assert reserved <= D("10000")
    assert decided == 50


async def test_correlated_group_limit_across_campaigns(stack: Stack) -> None:
    stack.client.policy = Policy(
        correlation_groups={"NVDA": "chips", "AMD": "chips", "AVGO": "chips", "TSM": "chips"}
    )
    symbols = ["NVDA", "AMD", "AVGO", "TSM"]
    plans = await asyncio.gather(
        *(
            stack.client.submit(
                signal(Pattern.SOS, rng=trading_range(symbol=s, range_id=UUID(int=2000 + i)))
            )
            for i, s in enumerate(symbols)
        )
    )
    approved = [p for p in plans if p.approved]
    # ~2% each (1,333 shares risk 1,999.50) within a 6% group: three fit, a fourth does not.
    assert len(approved) == 3
    assert sum(p.actual_risk_pct for p in approved) <= D("6")
    assert {p.rejection_code for p in plans if not p.approved} == {RejectionCode.CORRELATED_RISK}
