"""Market time on the real workflow: which bars a campaign takes, and what they do, is decided
by market timestamps alone, whatever the server's clock says."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern
from campaign_engine.testing.builders import signal, trading_range
from tests.workflow.conftest import Campaigns

D = Decimal
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
LAST_YEAR = datetime(2019, 3, 4, 14, 30, tzinfo=UTC)


def _price(at: datetime, minutes: int, **levels: str) -> PriceUpdate:
    as_of = at + timedelta(minutes=minutes)
    return PriceUpdate.model_validate({"symbol": "AAPL", "as_of": as_of, **levels})


async def _stop_out_at(campaigns: Campaigns, start: datetime, n: int) -> Any:
    """An SOS entry, a quiet bar, then a bar through the stop: the story of a stop-out, told
    at market time ``start``."""
    rng = trading_range(start=start, range_id=UUID(int=n))
    plan = await campaigns.client.submit(signal(Pattern.SOS, rng=rng, at=start))
    assert plan.approved
    bars = [
        _price(start, 5, price="149.90"),
        _price(start, 10, open="149.00", high="149.50", low="148.70", close="148.90"),
    ]
    for update in bars:
        await campaigns.client.send_price(plan.campaign_id, update)
    await campaigns.saved_status(plan.campaign_id, CampaignStatus.COMPLETED)
    realized = campaigns.ledger.state(plan.campaign_id).realized_pnl
    return realized, campaigns.broker.sells(plan.campaign_id)


@pytest.mark.parametrize("start", [LAST_YEAR, NOW], ids=["2019", "an-hour-ago"])
async def test_a_past_year_plays_as_the_present_does(campaigns: Campaigns, start: datetime) -> None:
    # The worked stop-out (test_campaign_paths), whatever the date: 1,333 shares out at 148.75.
    assert await _stop_out_at(campaigns, start, 1) == (
        D(1333) * D("-1.50"),
        [("STOP", D(1333), D("148.75"))],
    )
