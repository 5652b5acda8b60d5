"""What the integration tests share: an engine on the test's own database, with the portfolio's
starting equity set (100,000, the SPEC's worked account)."""

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository

STARTING_EQUITY = Decimal("100000")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    await CampaignRepository(engine).ensure_portfolio(STARTING_EQUITY)
    yield engine
    await engine.dispose()
