"""What the Alpaca broker's tests share: the fake served per test, the broker pointed at it,
a recording ``OrderUpdates`` sink and orders to place."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import SecretStr

from campaign_engine.brokers.alpaca.broker import AlpacaBroker
from campaign_engine.brokers.alpaca.config import AlpacaConfig
from campaign_engine.brokers.alpaca.stream import TradeUpdatesListener
from campaign_engine.domain.orders import BrokerOrder, Order, client_order_id
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderType, Pattern
from campaign_engine.testing.builders import as_price, as_shares
from campaign_engine.testing.fake_alpaca import KEY_ID, SECRET, FakeAlpaca

CAMPAIGN = "AAPL-2024-10-15"
ENTRY = client_order_id(CAMPAIGN, Pattern.SPRING, OrderPurpose.ENTRY)


def config_for(fake: FakeAlpaca, **changes: object) -> AlpacaConfig:
    return AlpacaConfig.model_validate(
        {"key_id": KEY_ID, "secret_key": SecretStr(SECRET), "base_url": fake.base_url} | changes
    )


def entry_order(
    coid: str = ENTRY,
    quantity: str = "333",
    limit: str | None = "150.00",
    side: OrderSide = OrderSide.BUY,
    purpose: OrderPurpose = OrderPurpose.ENTRY,
) -> Order:
    return Order(
        client_order_id=coid,
        campaign_id=CAMPAIGN,
        position_id=uuid.uuid5(uuid.NAMESPACE_URL, coid),
        symbol="AAPL",
        side=side,
        order_type=OrderType.LIMIT if limit is not None else OrderType.MARKET,
        purpose=purpose,
        quantity=as_shares(quantity),
        limit_price=as_price(limit) if limit is not None else None,
        expected_price=as_price(limit or "150.00"),
        created_at=datetime(2024, 10, 15, 14, 30, tzinfo=UTC),
        correlation_id="test",
    )


@dataclass
class RecordingSink:
    """An ``OrderUpdates`` that keeps what it was given."""

    deliveries: list[tuple[str, BrokerOrder]] = field(default_factory=list)

    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None:
        self.deliveries.append((campaign_id, update))

    @property
    def updates(self) -> list[BrokerOrder]:
        return [update for _, update in self.deliveries]


@asynccontextmanager
async def listening(
    fake: FakeAlpaca, broker: AlpacaBroker, sink: RecordingSink, **options: float
) -> AsyncIterator[TradeUpdatesListener]:
    """A trade-updates listener, entered and live."""
    listener = TradeUpdatesListener(config_for(fake), broker, sink, **options)
    async with listener:
        await _wait(listener)
        yield listener


async def _wait(listener: TradeUpdatesListener) -> None:
    await asyncio.wait_for(listener.listening.wait(), timeout=10)
