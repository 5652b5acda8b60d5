"""What the metrics read at each scrape (db/monitoring.py) and the decisions listing
(db/decisions.py), against a real PostgreSQL: campaigns by status with every status present,
the backlogs, an entry order open past its expiry by its symbol's market time, and refusals
of entries that never made a campaign."""

from datetime import timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.decisions import list_decisions
from campaign_engine.db.monitoring import backlogs, campaigns_by_status, entries_past_expiry
from campaign_engine.db.price_bars import PriceBars
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.policy import DEFAULT_POLICY
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import CampaignStatus, Pattern, RejectionCode
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import T0, Book, signal, tick, trading_range


async def _save(engine: AsyncEngine, book: Book) -> None:
    """As the workflow's first change saves: revision 1, whatever the campaign's version."""
    await CampaignRepository(engine).save(
        PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    )


async def test_an_entry_resting_past_its_expiry_by_market_time_is_counted(
    engine: AsyncEngine,
) -> None:
    book = Book(fill_orders=False)  # the entry order rests: nothing fills it
    book.submit(signal(Pattern.SPRING))
    await _save(engine, book)
    ttl = DEFAULT_POLICY.entry_order_ttl_bars * timedelta(hours=1)  # the range's 1h bars
    bars = PriceBars(engine)
    async with engine.connect() as conn:
        assert await entries_past_expiry(conn, DEFAULT_POLICY) == 0  # no price yet
    await bars.record([tick("149.00", int(ttl.total_seconds() // 60) - 1)])
    async with engine.connect() as conn:
        assert await entries_past_expiry(conn, DEFAULT_POLICY) == 0  # a minute before
    await bars.record([tick("149.10", int(ttl.total_seconds() // 60))])
    async with engine.connect() as conn:
        assert await entries_past_expiry(conn, DEFAULT_POLICY) == 1
        by_status = await campaigns_by_status(conn)
    assert by_status == {s: int(s is CampaignStatus.ACTIVE) for s in CampaignStatus}


async def test_backlogs_count_what_waits_and_how_long(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await backlogs(conn) == (await backlogs(conn)).__class__(0, 0, 0.0)
    await PriceIntake(engine).append([tick("150", 1), tick("151", 2)])
    book = Book()
    book.submit(signal(Pattern.SPRING))
    await _save(engine, book)  # its events wait in the outbox until the relay announces them
    async with engine.connect() as conn:
        waiting = await backlogs(conn)
    assert waiting.intake_waiting == 2  # no bar has taken them: no publisher runs here
    assert waiting.outbox_waiting == len(book.events)
    assert 0 <= waiting.outbox_oldest_age < 60


async def test_refusals_of_entries_that_made_no_campaign_are_listed(engine: AsyncEngine) -> None:
    approved = Book()
    approved.submit(signal(Pattern.SPRING))
    await _save(engine, approved)
    other = trading_range(symbol="MSFT", range_id=uuid4(), start=T0)
    refused = Book(state=CampaignState.for_range(other))
    refused.submit(signal(Pattern.SPRING, rng=other, confidence=10))  # too unsure to open one
    assert not refused.state.exists
    await _save(engine, refused)
    everything = await list_decisions(engine)
    assert everything.total == 2
    assert [p.symbol for p in everything.plans] == ["MSFT", "AAPL"]  # newest first
    refusals = await list_decisions(engine, approved=False)
    assert [(p.symbol, p.approved) for p in refusals.plans] == [("MSFT", False)]
    code = refusals.plans[0].rejection_code
    assert code is not None
    assert (await list_decisions(engine, code=code)).total == 1
    assert (await list_decisions(engine, code=RejectionCode.PORTFOLIO_HEAT)).total == 0
    assert (await list_decisions(engine, limit=1, offset=1)).plans[0].symbol == "AAPL"
