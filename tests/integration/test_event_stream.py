"""The audit trail read as a stream: commit order whatever the insert order, a notification
per committing transaction, and the price bars kept for charts."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from pydantic import JsonValue
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.api.live.hub import PORTFOLIO_EVERY, EventHub, Seen
from campaign_engine.db.engine import create_engine_for, libpq_url
from campaign_engine.db.event_stream import CHANNEL, START, Cursor, EventStream
from campaign_engine.db.price_bars import PriceBars
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.policy import Policy
from campaign_engine.stack.databases import Database, create_database, drop_database
from campaign_engine.stack.private_postgres import private_postgres
from campaign_engine.testing.builders import as_price
from tests.support.harness import eventually

AT = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def quiet_cluster() -> Iterator[Database]:
    """A PostgreSQL server of this module's own. Which rows the stream reads depends on every
    transaction running in the whole cluster (transaction ids are cluster-wide): on a server
    shared with tests running beside these, another test's open transaction holds the stream
    back, and a read that must see a row at once would not."""
    with private_postgres() as server:
        yield Database(server.url, "postgres", None)


@pytest.fixture
def database_url(quiet_cluster: Database) -> Iterator[str]:
    database = create_database(quiet_cluster, "ce_stream_")
    yield database.url
    drop_database(quiet_cluster, database)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def _record(conn: psycopg.AsyncConnection[object], event_id: str) -> None:
    await conn.execute(
        "INSERT INTO audit_trail (event_id, campaign_id, event_type, version, occurred_at,"
        " correlation_id, data) VALUES (%s, 'AAPL-2024-10-15', 'CampaignUpdated', 1, %s, 'c',"
        " %s::jsonb)",
        (event_id, AT, json.dumps({"kind": "SomethingNew", "detail": event_id})),
    )


def test_a_cursor_is_written_and_read_back() -> None:
    assert str(Cursor(812, 3)) == "812.3"
    assert Cursor.parse(" 812.3 ") == Cursor(812, 3)
    assert Cursor(812, 9) < Cursor(813, 1)  # stream order: the transaction first
    for bad in ("", "812", "812.", "a.3", "-1.3", "1.2.3"):
        with pytest.raises(ValueError, match=r"cursor must be <txid>\.<seq>"):
            Cursor.parse(bad)


async def test_an_event_committed_late_is_not_skipped(
    engine: AsyncEngine, database_url: str
) -> None:
    """Insert order is not commit order: the row inserted first (the lower seq) commits last.
    A reader must not pass it by while it is still uncommitted."""
    stream = EventStream(engine)
    dsn = libpq_url(database_url)
    async with (
        await psycopg.AsyncConnection.connect(dsn) as slow,
        await psycopg.AsyncConnection.connect(dsn) as quick,
    ):
        await _record(slow, "first-inserted")
        await _record(quick, "second-inserted")
        await quick.commit()
        # Committed but behind a transaction still running: not settled, not read yet.
        assert await stream.after(START) == []
        assert await stream.head() == START
        await slow.commit()
    read = await stream.after(START)
    assert [e.record.event_id for e in read] == ["first-inserted", "second-inserted"]
    assert read[0].cursor < read[1].cursor
    assert await stream.head() == read[1].cursor
    assert await stream.after(read[0].cursor) == read[1:]
    assert await stream.after(read[1].cursor) == []
    assert await stream.position_of("second-inserted") == read[1].cursor
    assert await stream.position_of("never-recorded") is None
    # Read generically: a kind the engine does not know yet comes through as written.
    assert read[0].record.data == {"kind": "SomethingNew", "detail": "first-inserted"}
    assert read[0].record.type == "CampaignUpdated"


async def test_each_committing_transaction_notifies_once(database_url: str) -> None:
    dsn = libpq_url(database_url)
    async with (
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as listener,
        await psycopg.AsyncConnection.connect(dsn) as writer,
    ):
        await listener.execute(f"LISTEN {CHANNEL}")
        for n in range(3):
            await _record(writer, f"event-{n}")
        heard = [n async for n in listener.notifies(timeout=0.5)]
        assert heard == []  # nothing before the commit
        await writer.commit()
        heard = [n async for n in listener.notifies(timeout=1.0)]
        assert [n.channel for n in heard] == [CHANNEL]
        await _record(writer, "rolled-back")
        await writer.rollback()
        assert [n async for n in listener.notifies(timeout=0.5)] == []


async def test_prices_are_kept_as_bars_per_symbol(engine: AsyncEngine) -> None:
    bars = PriceBars(engine)
    p = Decimal
    await bars.record(
        [
            PriceUpdate.tick("AAPL", AT, as_price("150")),
            PriceUpdate(
                symbol="AAPL",
                as_of=AT + timedelta(minutes=1),
                open=p("150"),
                high=p("152.5"),
                low=p("149"),
                close=p("151"),
            ),
            PriceUpdate.tick("MSFT", AT, as_price("400")),
            PriceUpdate.tick("AAPL", AT + timedelta(minutes=2), as_price("153")),
        ]
    )
    aapl = await bars.last("AAPL")
    assert [(b.as_of - AT, b.open, b.high, b.low, b.close) for b in aapl] == [
        (timedelta(0), p("150"), p("150"), p("150"), p("150")),
        (timedelta(minutes=1), p("150"), p("152.5"), p("149"), p("151")),
        (timedelta(minutes=2), p("153"), p("153"), p("153"), p("153")),
    ]
    assert [b.close for b in await bars.last("AAPL", limit=2)] == [p("151"), p("153")]
    until = await bars.last("AAPL", until=AT + timedelta(minutes=1))
    assert [b.close for b in until] == [p("150"), p("151")]
    assert await bars.last("NVDA") == []
    with pytest.raises(ValueError, match="limit must be between 1 and 2000"):
        await bars.last("AAPL", limit=0)


async def test_the_hub_serves_any_cursor_from_memory_or_from_the_table(
    engine: AsyncEngine, database_url: str
) -> None:
    """A hub keeping only the newest two events still answers a cursor further back, from
    the table; every cursor gets exactly the events after it."""
    await CampaignRepository(engine).ensure_portfolio(Decimal("100000"))
    dsn = libpq_url(database_url)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as writer:
        for n in range(3):
            await _record(writer, f"before-{n}")
        async with EventHub(engine, Policy(), keep=2, poll=0.1) as hub:
            assert await hub.started(10)
            assert [e.record.event_id for e in await hub.after(hub.head)] == []
            for n in range(4):
                await _record(writer, f"after-{n}")
            everything = await EventStream(engine).after(START)
            assert len(everything) == 7

            async def caught_up() -> bool:
                return hub.head == everything[-1].cursor

            await eventually(caught_up)
            ids = [e.record.event_id for e in everything]
            for n, cursor in enumerate([START] + [e.cursor for e in everything]):
                assert [e.record.event_id for e in await hub.after(cursor)] == ids[n:]
            assert hub.portfolio is not None and hub.portfolio["heat_pct"] == "0"
            assert await hub.campaigns(["AAPL-2024-10-15"]) == []  # no such campaign row


async def test_a_burst_moves_the_portfolio_at_most_every_half_second_and_ends_on_the_last(
    engine: AsyncEngine, database_url: str
) -> None:
    """Each event batch moves the book; the portfolio (which marks every holding campaign) is
    read at most every ``PORTFOLIO_EVERY`` while a socket streams, and once more after the
    burst, so the stream ends on the book as it is."""
    await CampaignRepository(engine).ensure_portfolio(Decimal("100000"))
    dsn = libpq_url(database_url)
    async with (
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as writer,
        EventHub(engine, Policy(), poll=0.1, gap=0.02) as hub,
    ):
        assert await hub.started(10)
        reads = 0
        read_portfolio = hub.snapshots.portfolio

        async def counted() -> dict[str, JsonValue]:
            nonlocal reads
            reads += 1
            return await read_portfolio()

        hub.snapshots.portfolio = counted  # type: ignore[method-assign]
        async with hub.attached():
            loop = asyncio.get_running_loop()
            started = loop.time()
            for n in range(40):  # a save every 25 ms for a second, each moving equity
                async with writer.transaction():
                    await writer.execute(
                        "UPDATE portfolio SET starting_equity = %s WHERE id = 1", (100_001 + n,)
                    )
                    await _record(writer, f"burst-{n}")
                await asyncio.sleep(0.025)
            lasted = loop.time() - started

            async def settled() -> bool:
                return hub.portfolio is not None and hub.portfolio["equity"] == "100040"

            await eventually(settled)
        assert reads <= lasted / PORTFOLIO_EVERY + 2, (reads, lasted)


async def test_a_run_of_events_is_followed_by_a_portfolio_read_after_it_even_unchanged(
    engine: AsyncEngine, database_url: str
) -> None:
    """The page redraws the book after each run of events: the portfolio a socket sends then
    is one read after those events (not the one in hand, which may predate them), and it
    goes out even when the events left the book as it was."""
    await CampaignRepository(engine).ensure_portfolio(Decimal("100000"))
    dsn = libpq_url(database_url)
    async with (
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) as writer,
        EventHub(engine, Policy(), poll=0.1, gap=0.02) as hub,
    ):
        assert await hub.started(10)
        async with hub.attached():
            seen = Seen(hub.head, hub.marks.seq, hub.portfolio_seq, hub.head)
            unchanged = hub.portfolio_seq
            assert not hub.owes_portfolio(seen)
            await _record(writer, "moves-nothing-of-the-book")

            async def read() -> bool:
                return hub.head > seen.cursor

            await eventually(read)
            seen.cursor = hub.head  # the socket sent the event

            async def owed() -> bool:
                return hub.owes_portfolio(seen)

            await eventually(owed)
            assert hub.portfolio_seq == unchanged  # the same book: only the rule sends it
