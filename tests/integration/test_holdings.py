"""What the campaigns on a symbol hold, as the broker-holding reconciliation reads it."""

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.holdings import symbol_claims
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.messages import PersistRequest
from tests.support.builders import T0, Book, signal, trading_range

D = Decimal


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    await CampaignRepository(engine).ensure_portfolio(D("100000"))
    yield engine
    await engine.dispose()


async def open_campaign(
    engine: AsyncEngine, symbol: str, day: int, *, filled: bool = True
) -> tuple[str, Decimal]:
    """A Spring entered on ``day`` (filled at once, or left open at the broker): its id and
    the shares it holds."""
    rng = trading_range(symbol=symbol, range_id=uuid4(), start=T0 + timedelta(days=day))
    book = Book(state=CampaignState.for_range(rng), fill_orders=filled)
    book.submit(signal(Pattern.SPRING, rng=rng, at=rng.start_time + timedelta(hours=1)))
    await CampaignRepository(engine).save(
        PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    )
    return book.state.campaign_id, sum((p.open_shares for p in book.state.positions), D(0))


async def test_each_campaign_counts_the_shares_of_those_opened_before_it(
    engine: AsyncEngine,
) -> None:
    first, a = await open_campaign(engine, "AAPL", 1)
    second, b = await open_campaign(engine, "AAPL", 2)
    third, c = await open_campaign(engine, "AAPL", 3)
    await open_campaign(engine, "MSFT", 0)  # another symbol counts for nothing
    assert a > 0 and b > 0 and c > 0

    held = [
        (await symbol_claims(engine, "AAPL", cid)).held_before for cid in (first, second, third)
    ]
    assert held == [0, a, a + b]
    # A campaign the symbol does not know counts on nothing the others hold.
    assert (await symbol_claims(engine, "AAPL", "unknown")).held_before == a + b + c
    assert (await symbol_claims(engine, "MSFT", first)).held_before > 0
    assert not (await symbol_claims(engine, "AAPL", first)).orders_in_flight


async def test_an_open_order_on_the_symbol_is_in_flight_for_every_campaign_on_it(
    engine: AsyncEngine,
) -> None:
    first, _ = await open_campaign(engine, "AAPL", 1)
    await open_campaign(engine, "AAPL", 2, filled=False)
    await open_campaign(engine, "MSFT", 3)

    assert (await symbol_claims(engine, "AAPL", first)).orders_in_flight
    assert not (await symbol_claims(engine, "MSFT", "anything")).orders_in_flight
