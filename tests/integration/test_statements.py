"""The ready SQL of the hot path: the outbox is fed exactly once per recorded event, stale and
failed saves change nothing, and the statements' columns follow the schema."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository, save_writes
from campaign_engine.db.schema import (
    allocation_plans,
    audit_trail,
    campaign_exposure,
    campaign_snapshots,
    campaigns,
    exposure_history,
    orders,
    outbox,
    positions,
)
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import Book, signal, tick

SAVED = (
    campaign_snapshots,
    campaigns,
    positions,
    orders,
    campaign_exposure,
    exposure_history,
    allocation_plans,
    audit_trail,
    outbox,
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=1)
    await CampaignRepository(engine).ensure_portfolio(Decimal("100000"))
    yield engine
    await engine.dispose()


def two_saves() -> tuple[PersistRequest, PersistRequest]:
    """A campaign's first snapshot, and its next one with the events of that change only."""
    book = Book()
    book.submit(signal(Pattern.SPRING))
    first = PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    book.submit(signal(Pattern.SOS))
    book.price(tick("152.00", 1))
    later = book.events[len(first.events) :]
    return first, PersistRequest(revision=2, state=book.state, events=tuple(later))


async def contents(engine: AsyncEngine, table: Table) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(row) for row in rows]


async def everything(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    return {table.name: await contents(engine, table) for table in SAVED}


async def queued(engine: AsyncEngine) -> list[int]:
    return [seq for (seq,) in await contents(engine, outbox)]


async def test_each_recorded_event_is_enqueued_once_even_when_retried(
    engine: AsyncEngine,
) -> None:
    repository = CampaignRepository(engine)
    first, second = two_saves()
    await repository.save(first)
    await repository.save(second)
    recorded = await contents(engine, audit_trail)
    assert len(recorded) == len(first.events) + len(second.events) == 7
    assert await queued(engine) == [row[0] for row in recorded]  # seq, in order

    await repository.save(second)  # a retry while the events wait in the outbox
    assert await queued(engine) == [row[0] for row in recorded]

    async with engine.begin() as conn:  # a relay announced them
        await conn.execute(delete(outbox))
    await repository.save(first)
    await repository.save(second)
    assert await queued(engine) == []
    assert await contents(engine, audit_trail) == recorded


async def test_a_stale_save_changes_nothing(engine: AsyncEngine) -> None:
    repository = CampaignRepository(engine)
    first, second = two_saves()
    await repository.save(first)
    await repository.save(second)
    before = await everything(engine)
    await repository.save(first)  # a retry of the earlier snapshot, arriving late
    assert await everything(engine) == before
    assert await repository.load_state(second.state.campaign_id) == (second.state, 2)


async def test_a_save_that_fails_writes_nothing_and_leaves_the_connection_usable(
    engine: AsyncEngine,
) -> None:
    repository = CampaignRepository(engine)
    first, _ = two_saves()
    too_long = replace(first.events[-1], event_id="x" * 300)  # audit_trail.event_id is 256
    with pytest.raises(psycopg.errors.StringDataRightTruncation):
        await repository.save(
            PersistRequest(revision=1, state=first.state, events=(*first.events[:-1], too_long))
        )
    assert await everything(engine) == {table.name: [] for table in SAVED}
    await repository.save(first)  # the one pooled connection, rolled back and reusable
    assert len(await queued(engine)) == len(first.events)


def test_every_statement_of_a_save_gets_exactly_its_columns() -> None:
    """A column added to the schema (so to the statement) but not to the row, or the reverse,
    fails here rather than in a worker."""
    first, second = two_saves()
    for request in (first, second):
        writes = save_writes(request, datetime.now(UTC))
        # snapshot, campaign, positions, orders, exposure and its history, plans, events
        assert len(writes) == 8
        for write, rows in writes:
            for row in rows:
                assert sorted(row) == sorted(write.columns), write.sql
