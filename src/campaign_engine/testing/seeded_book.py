"""A book of many campaigns written straight into the read model, as the workflows' saves
write them: for what reads the book (the list, the portfolio, the live stream, the dashboard)
at sizes that playing each campaign through Temporal would take minutes to build.

Each campaign is one range on its own symbol with a Spring entry filled at its planned price
(the paper fill model); the campaign states and events come from the domain, the same as a
workflow's, so nothing here invents a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid5

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.price_bars import PriceBars
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import T0, Book, signal, trading_range


@dataclass(frozen=True, slots=True)
class Seeded:
    campaign_id: str
    symbol: str
    shares: Decimal
    entry: Decimal  # what each share cost


def book_symbol(index: int) -> str:
    """``S0000``, ``S0001``...: a prefix of four characters finds ten campaigns, of three a
    hundred."""
    return f"S{index:04d}"


async def seed_book(
    engine: AsyncEngine, count: int, *, first: int = 0, start: datetime = T0
) -> list[Seeded]:
    """``count`` campaigns, each holding a filled Spring entry, saved one after another (the
    newest last, a minute apart in market time)."""
    repository = CampaignRepository(engine)
    seeded = []
    for index in range(first, first + count):
        at = start + timedelta(minutes=index)
        rng = trading_range(
            symbol=book_symbol(index), range_id=uuid5(NAMESPACE_URL, f"book:{index}"), start=at
        )
        book = Book(state=CampaignState.for_range(rng))
        book.submit(signal(Pattern.SPRING, rng=rng, at=at))
        await repository.save(
            PersistRequest(revision=book.state.version, state=book.state, events=tuple(book.events))
        )
        position = book.position(Pattern.SPRING)
        seeded.append(
            Seeded(
                book.state.campaign_id, rng.symbol, position.shares, position.average_entry_price
            )
        )
    return seeded


async def price_book(
    engine: AsyncEngine, prices: Sequence[tuple[str, Decimal]], *, as_of: datetime
) -> None:
    """Record the API's acceptance of one price per symbol at ``as_of``, as ``POST /prices``
    records it for the charts (and the marks)."""
    updates = [PriceUpdate(symbol=s, as_of=as_of, price=p) for s, p in prices]
    await PriceBars(engine).record(updates)
