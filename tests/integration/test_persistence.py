"""PostgreSQL edges: migrations, idempotent writes, the append-only audit trail, the paper
broker, and the portfolio reservation."""

from dataclasses import replace
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.brokers.paper import PaperBroker
from campaign_engine.db.engine import sync_url
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.db.schema import audit_trail, campaigns, metadata, orders
from campaign_engine.domain.vocabulary import OrderStatus, Pattern, RejectionCode
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import Book, as_shares, reservation, signal, tick

D = Decimal


def test_migrations_create_exactly_the_schema(database_url: str) -> None:
    sync = create_engine(sync_url(database_url))
    with sync.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    sync.dispose()
    assert differences == []


async def test_the_audit_trail_refuses_update_delete_and_truncate(engine: AsyncEngine) -> None:
    book = Book()
    book.submit(signal(Pattern.SPRING))
    await CampaignRepository(engine).save(
        PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    )
    for statement in (
        "UPDATE audit_trail SET event_type = 'X'",
        "DELETE FROM audit_trail",
        # A plain TRUNCATE is refused before the trigger by the outbox's foreign key; CASCADE
        # gets as far as the trigger.
        "TRUNCATE audit_trail CASCADE",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    async with engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(audit_trail))).scalar_one()
    assert kept == len(book.events) == 2  # CampaignCreated, PositionOpened


async def test_retried_and_stale_writes_change_nothing(engine: AsyncEngine) -> None:
    repository = CampaignRepository(engine)
    book = Book()
    book.submit(signal(Pattern.SPRING))
    early = PersistRequest(revision=1, state=book.state, events=tuple(book.events))
    book.price(tick("150.00", 1))  # t1: 166 sold, stop to breakeven
    late = PersistRequest(revision=2, state=book.state, events=tuple(book.events))
    await repository.save(early)
    await repository.save(late)
    await repository.save(late)  # a retry
    await repository.save(early)  # a stale snapshot arriving late
    async with engine.connect() as conn:
        row = (await conn.execute(select(campaigns))).one()
        events = (await conn.execute(select(func.count()).select_from(audit_trail))).scalar_one()
        sells = (
            await conn.execute(select(func.count()).where(orders.c.side == "SELL"))
        ).scalar_one()
    assert row.version == book.state.version
    assert row.open_risk == 0  # the trailed stop, not the stale initial one
    assert events == len(book.events)
    assert sells == 1
    state, revision = await repository.load_state(book.state.campaign_id)
    assert (state, revision) == (book.state, 2)


async def test_the_paper_broker_returns_the_existing_order_on_resubmission(
    engine: AsyncEngine,
) -> None:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SOS))
    (order,) = book.orders
    broker = PaperBroker(engine)
    first = await broker.submit(order)
    again = await broker.submit(replace(order, quantity=as_shares(1)))  # same id: the same order
    assert first == again
    assert (first.status, first.filled_quantity) == (OrderStatus.FILLED, D(1333))
    (fill,) = first.fills
    assert (fill.price, fill.filled_at) == (D("150.25"), order.created_at)
    assert await broker.cancel(order.client_order_id) == first  # filled: nothing to cancel


async def test_reservations_are_idempotent_and_bounded_by_heat(engine: AsyncEngine) -> None:
    repository = CampaignRepository(engine)
    requests = [reservation(f"S{i}-2024-10-15", f"S{i}") for i in range(6)]
    admissions = [await repository.reserve(r) for r in requests]
    assert [a.approved for a in admissions] == [True] * 5 + [False]
    assert admissions[-1].rejection is not None
    assert admissions[-1].rejection.code is RejectionCode.PORTFOLIO_HEAT
    assert await repository.reserve(requests[0]) == admissions[0]  # asked again: same answer
    assert [a.shares for a in admissions[:5]] == [D(1333)] * 5


async def test_equity_for_sizing_includes_realized_pnl(engine: AsyncEngine) -> None:
    repository = CampaignRepository(engine)
    winner = reservation("W-2024-10-15", "W", realized_pnl=D("50000"))
    admission = await repository.reserve(winner)
    assert admission.equity == D("150000")
    assert admission.shares == D(2000)  # 2% of 150,000 / 1.50
