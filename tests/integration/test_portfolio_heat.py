"""One heat: the figure ``GET /portfolio`` reads is the one entry admission checks, to the
last place, on numbers that do not divide evenly (thirds of a percent, a rounding right at an
alert threshold)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.read_model import ReadModel
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import campaign_exposure
from campaign_engine.domain.entry import AdmissionRequest
from campaign_engine.domain.limits import Exposure, PortfolioView, heat_alert_level
from campaign_engine.domain.money import percent_of
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import HeatAlertLevel
from campaign_engine.testing.builders import reservation

D = Decimal
STARTING_EQUITY = D("300000")
POLICY = Policy(starting_equity=STARTING_EQUITY, correlation_groups={"MSFT": "TECH"})


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    await CampaignRepository(engine).ensure_portfolio(STARTING_EQUITY)
    yield engine
    await engine.dispose()


async def _expose(engine: AsyncEngine, *rows: tuple[str, str, str, str, str]) -> None:
    """(campaign id, symbol, open risk, reserved risk, realized P&L) rows of the exposure
    table, as the campaigns' saves and reservations leave it."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for campaign_id, symbol, open_risk, reserved, realized in rows:
            await conn.execute(
                insert(campaign_exposure).values(
                    campaign_id=campaign_id,
                    symbol=symbol,
                    open_risk=D(open_risk),
                    reserved_risk=D(reserved),
                    realized_pnl=D(realized),
                    unrealized_pnl=D(0),
                    version=1,
                    updated_at=now,
                )
            )


def _entry_for(campaign_id: str, symbol: str) -> AdmissionRequest:
    return reservation(campaign_id, symbol, risk_pct=D("0.5"), policy=POLICY)


async def test_the_portfolio_shows_the_heat_admission_checks_on_thirds(
    engine: AsyncEngine,
) -> None:
    await _expose(
        engine,
        ("AAPL-2024-10-15", "AAPL", "1000", "0", "1"),  # equity 300,001: nothing divides
        ("MSFT-2024-10-15", "MSFT", "333.33333333", "666.66666667", "0"),
        ("NVDA-2024-10-15", "NVDA", "0", "1234.56789012", "0"),
    )
    shown = await ReadModel(engine).portfolio(POLICY)
    admission = await CampaignRepository(engine).reserve(_entry_for("AMD-2024-10-15", "AMD"))

    assert shown.equity == admission.equity == D("300001")
    assert shown.heat_pct == admission.heat_before_pct
    exact = percent_of(part=shown.total_risk, whole=shown.equity)
    assert exact != shown.heat_pct  # a third of a percent does not end in 8 places ...
    assert shown.heat_pct is not None and admission.heat_before_pct is not None
    assert D(0) < shown.heat_pct - exact < D("0.00000001")  # ... and is rounded up, once
    assert shown.heat_pct == D("1.07818571")  # 1.0781857033... up
    assert shown.alert_level is heat_alert_level(admission.heat_before_pct, POLICY)

    view = PortfolioView.of(
        shown.equity,
        (
            Exposure(
                campaign_id=c.campaign_id,
                symbol=c.symbol,
                open_risk=c.open_risk,
                reserved_risk=c.reserved_risk,
            )
            for c in shown.by_campaign
        ),
    )
    assert [(g.correlation_group, g.risk_pct) for g in shown.by_group] == [
        (group, view.group_risk_pct(group, POLICY)) for group in ("AAPL", "NVDA", "TECH")
    ]


async def test_a_heat_that_rounds_onto_a_threshold_is_alerted_where_admission_sees_it(
    engine: AsyncEngine,
) -> None:
    # 20,999.99999999 of 300,000 is 6.99999999999666...%: 7% once rounded up to 8 places.
    await _expose(engine, ("AAPL-2024-10-15", "AAPL", "20999.99999999", "0", "0"))
    shown = await ReadModel(engine).portfolio(POLICY)
    admission = await CampaignRepository(engine).reserve(_entry_for("AMD-2024-10-15", "AMD"))
    assert shown.heat_pct == admission.heat_before_pct == D("7")
    assert shown.alert_level is HeatAlertLevel.WARNING
