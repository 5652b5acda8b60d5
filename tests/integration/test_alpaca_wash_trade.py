"""Orders sequenced as Alpaca requires (issue 22), against the Alpaca stand-in taught Alpaca's
documented wash-trade rule: a sell that could trade against an open buy on its symbol is
refused (403, 40310000, "potential wash trade detected. use complex orders"), and a cancelled
buy stays open (``pending_cancel``) until Alpaca confirms it a moment later.

The change a campaign carries out when the range breaks (cancel its partly filled entry, sell
what filled at market) goes out in that order: the sell waits until the cancel is confirmed."""

import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import cast

import pytest

from campaign_engine.activities.effects import EffectActivities
from campaign_engine.brokers.alpaca.broker import AlpacaBroker
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderStatus
from campaign_engine.temporal.messages import CarryOutRequest, PersistRequest
from campaign_engine.testing.alpaca import ENTRY, config_for, entry_order
from campaign_engine.testing.builders import trading_range
from campaign_engine.testing.fake_alpaca import FakeAlpaca, serving

D = Decimal
SELL = "AAPL-2024-10-15:SPRING:INVALIDATION"


class Saved:
    """The persistence step of the activity, which this test does not look at."""

    def __init__(self) -> None:
        self.requests: list[PersistRequest] = []

    async def save(self, request: PersistRequest) -> None:
        self.requests.append(request)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlpaca]:
    async with serving(FakeAlpaca()) as served:
        served.book.cancel_confirm_after = 0.3  # Alpaca confirms a cancel a moment later
        yield served


@pytest.fixture
async def broker(fake: FakeAlpaca) -> AsyncIterator[AlpacaBroker]:
    async with AlpacaBroker(config_for(fake)) as alpaca:
        yield alpaca


def _effects(broker: AlpacaBroker, sell_wait_seconds: float = 5.0) -> EffectActivities:
    repository = cast(CampaignRepository, Saved())
    return EffectActivities(repository, broker, sell_wait_seconds=sell_wait_seconds)


def _invalidation(*cancellations: str) -> CarryOutRequest:
    sell = entry_order(
        SELL, quantity="20", limit=None, side=OrderSide.SELL, purpose=OrderPurpose.INVALIDATION
    )
    return CarryOutRequest(
        revision=2,
        state=CampaignState.for_range(trading_range()),
        cancellations=cancellations,
        orders=(sell,),
    )


async def test_the_exit_goes_out_once_the_entrys_cancel_is_confirmed(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """The issue's run: 20 shares of the entry filled, the price broke the range, the entry
    was cancelled (pending_cancel) and the market sell refused at once, three times."""
    await broker.submit(entry_order(limit="148.50"))
    fake.fill(ENTRY, D(20), D("148.50"))

    carried = await _effects(broker).carry_out(_invalidation(ENTRY))

    (cancelled,) = carried.cancelled
    assert (cancelled.status, cancelled.filled_quantity) == (OrderStatus.CANCELLED, D(20))
    (sold,) = carried.orders
    assert sold.status is OrderStatus.OPEN  # placed, not refused
    assert fake.order(SELL)["side"] == "sell"
    fake.fill(SELL, D(20), D("146.90"))
    assert await broker.position("AAPL") == 0


async def test_a_sell_beside_another_campaigns_resting_buy_waits_its_bound_then_goes(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """Another campaign's buy limit on the symbol rests and nothing cancels it: the sell waits
    for it no longer than its bound, then goes out and the broker's refusal is the answer its
    campaign books (and retries)."""
    fake.book.positions["AAPL"] = (D(20), D("148.50"))  # this campaign's shares
    other = "AAPL-2024-11-01:SPRING:ENTRY"
    await broker.submit(entry_order(other, limit="147.00"))

    started = time.monotonic()
    carried = await _effects(broker, sell_wait_seconds=0.5).carry_out(_invalidation())
    waited = time.monotonic() - started

    (refused,) = carried.orders
    assert (refused.status, refused.reason) == (
        OrderStatus.REJECTED,
        "potential wash trade detected. use complex orders",
    )
    assert 0.5 <= waited < 3
    asked = [r for r in fake.requests if r.method == "GET" and r.path == "/v2/orders"]
    assert len(asked) >= 2  # looked again while it waited
