"""Bad prints at the durable intake (SPEC section 11) against a real PostgreSQL: what the screen
holds never enters the intake (nor the charts and marks), survives a restart of the process (a
new ``PriceIntake`` on the same database), and an operator's release or discard resolves it
once."""

from collections.abc import AsyncIterator
from decimal import Decimal

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, pool, select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for, libpq_url, sync_url
from campaign_engine.db.migrate import alembic_config
from campaign_engine.db.price_bars import CHANNEL as PRICES_CHANNEL
from campaign_engine.db.price_bars import PriceBars
from campaign_engine.db.price_holds import HeldPrices, HoldNotFound, NotHeld
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.price_screens import HoldStatus
from campaign_engine.db.schema import price_intake, price_intake_cursors, price_screens
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.testing.builders import bar, signal, tick

D = Decimal
BAD = "0.01"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def _journal(engine: AsyncEngine) -> list[PriceUpdate]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(price_intake.c.price_update).order_by(price_intake.c.seq))
        return [PriceUpdate.model_validate(r.price_update) for r in rows]


async def _charted(engine: AsyncEngine, symbol: str = "AAPL") -> list[Decimal]:
    """The closes the symbol's chart (and its marks) have, oldest first."""
    return [bar.close for bar in await PriceBars(engine).last(symbol)]


async def _reference(engine: AsyncEngine, symbol: str = "AAPL") -> Decimal | None:
    async with engine.connect() as conn:
        return await conn.scalar(
            select(price_screens.c.reference).where(price_screens.c.symbol == symbol)
        )


async def test_a_bad_print_is_held_out_of_the_intake_and_the_next_price_refutes_it(
    engine: AsyncEngine,
) -> None:
    intake = PriceIntake(engine)
    first = await intake.append([tick("148.50", 1)])
    assert (first.held, len(first.seqs)) == (0, 1)
    held = await intake.append([tick(BAD, 2)])
    assert (held.held, held.seqs, held.taken) == (1, [], [])
    assert intake.prints_held == 1
    (hold,) = await HeldPrices(engine).holds()
    assert (hold.symbol, hold.update, hold.reference, hold.status) == (
        "AAPL",
        tick(BAD, 2),
        D("148.50"),
        HoldStatus.HELD,
    )
    assert await _journal(engine) == [tick("148.50", 1)]
    assert await _charted(engine) == [D("148.50")]  # marks nothing while held

    refuted = await intake.append([tick("148.40", 3)])
    assert (refuted.held, refuted.discarded, refuted.taken) == (0, 1, [tick("148.40", 3)])
    assert await _journal(engine) == [tick("148.50", 1), tick("148.40", 3)]
    assert await HeldPrices(engine).holds() == []
    (resolved,) = await HeldPrices(engine).holds(status=HoldStatus.DISCARDED)
    assert resolved.hold_id == hold.hold_id
    assert resolved.resolved_at is not None
    assert "refuted" in (resolved.resolution or "")
    assert await _reference(engine) == D("148.40")


async def test_the_next_price_near_the_held_one_confirms_it_and_both_enter_in_order(
    engine: AsyncEngine,
) -> None:
    intake = PriceIntake(engine)
    await intake.append([tick("100", 1), tick("60", 2)])
    # a new process (a restart, another API process) judges the next update the same way
    again = PriceIntake(engine)
    confirmed = await again.append([bar("60", "61", "57", "58", 3)])
    assert confirmed.taken == [tick("60", 2), bar("60", "61", "57", "58", 3)]
    assert len(confirmed.seqs) == 2
    assert await _journal(engine) == [tick("100", 1), tick("60", 2), bar("60", "61", "57", "58", 3)]
    (hold,) = await HeldPrices(engine).holds(status=HoldStatus.CONFIRMED)
    assert hold.update == tick("60", 2)
    assert await _reference(engine) == D("58")


async def test_a_second_print_far_from_both_replaces_the_held_one(engine: AsyncEngine) -> None:
    intake = PriceIntake(engine)
    appended = await intake.append([tick("100", 1), tick(BAD, 2), tick("1000000000", 3)])
    assert (appended.taken, appended.held, appended.discarded) == ([tick("100", 1)], 2, 1)
    (held,) = await HeldPrices(engine).holds()
    assert held.update == tick("1000000000", 3)
    assert held.reference == D("100")
    (replaced,) = await HeldPrices(engine).holds(status=HoldStatus.DISCARDED)
    assert replaced.update == tick(BAD, 2)
    assert "replaced" in (replaced.resolution or "")


async def test_symbols_are_screened_apart_and_the_band_comes_from_the_policy(
    engine: AsyncEngine,
) -> None:
    intake = PriceIntake(engine, band_pct=D(10))
    appended = await intake.append(
        [tick("100", 1), tick("50", 1, "MSFT"), tick("111", 2), tick("54", 2, "MSFT")]
    )
    assert appended.taken == [tick("100", 1), tick("50", 1, "MSFT"), tick("54", 2, "MSFT")]
    assert appended.held == 1
    off = PriceIntake(engine, band_pct=D(0))
    assert (await off.append([tick(BAD, 3, "MSFT")])).taken == [tick(BAD, 3, "MSFT")]


async def test_what_the_intake_takes_is_charted_and_announced_at_its_commit(
    engine: AsyncEngine, database_url: str
) -> None:
    async with await psycopg.AsyncConnection.connect(
        libpq_url(database_url), autocommit=True
    ) as listener:
        await listener.execute(f"LISTEN {PRICES_CHANNEL}")
        intake = PriceIntake(engine)
        await intake.append([tick("100", 1), tick(BAD, 2), tick("101", 3, symbol="MSFT")])
        heard = [n.payload async for n in listener.notifies(timeout=1.0)]
    assert heard == ["AAPL,MSFT"]  # one notification per append, its symbols
    assert await _charted(engine) == [D("100")]  # the held print is not charted
    assert await _charted(engine, "MSFT") == [D("101")]


async def test_an_operator_releases_a_held_update_once(engine: AsyncEngine) -> None:
    intake = PriceIntake(engine)
    await intake.append([tick("100", 1), tick("60", 2)])
    (hold,) = await HeldPrices(engine).holds()
    released = await HeldPrices(engine).release(hold.hold_id)
    assert released.hold.status is HoldStatus.RELEASED
    assert released.hold.resolved_at is not None
    assert not released.too_old
    assert await _journal(engine) == [tick("100", 1), tick("60", 2)]
    assert await _charted(engine) == [D("100"), D("60")]  # and on the chart with it
    assert await _reference(engine) == D("60")  # the next update is judged against it
    assert (await intake.append([tick("59", 3)])).held == 0
    with pytest.raises(NotHeld, match="released"):
        await HeldPrices(engine).release(hold.hold_id)
    with pytest.raises(NotHeld):
        await HeldPrices(engine).discard(hold.hold_id)
    with pytest.raises(HoldNotFound):
        await HeldPrices(engine).release(hold.hold_id + 100)


async def test_a_release_after_a_later_bar_is_too_old_as_any_late_update(
    engine: AsyncEngine,
) -> None:
    intake = PriceIntake(engine)
    await intake.append([tick("100", 1), tick("60", 2)])
    async with engine.begin() as conn:  # the publisher has made a bar of minute 5
        (later,) = (await intake.append([tick("99", 5)])).seqs
        await conn.execute(
            price_intake_cursors.insert().values(
                symbol="AAPL", flushed_seq=later, bar_as_of=tick("99", 5).as_of
            )
        )
    # the held one was refuted by 99 already; hold another and release it late
    await intake.append([tick("60", 4)])
    (hold,) = await HeldPrices(engine).holds()
    released = await HeldPrices(engine).release(hold.hold_id)
    assert released.too_old


async def test_an_operator_discards_a_held_update(engine: AsyncEngine) -> None:
    intake = PriceIntake(engine)
    await intake.append([tick("100", 1), tick(BAD, 2)])
    (hold,) = await HeldPrices(engine).holds()
    discarded = await HeldPrices(engine).discard(hold.hold_id)
    assert discarded.status is HoldStatus.DISCARDED
    assert await _journal(engine) == [tick("100", 1)]
    assert await _reference(engine) == D("100")
    assert (await intake.append([tick(BAD, 3)])).held == 1  # still judged against 100


def test_the_upgrade_starts_each_symbol_from_the_newest_price_the_intake_holds(
    database_url: str,
) -> None:
    sync = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    config = alembic_config(database_url)
    try:
        with sync.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0007")
            conn.execute(
                price_intake.insert(),
                [
                    {"symbol": u.symbol, "price_update": u.model_dump(mode="json")}
                    for u in (
                        tick("100", 1),
                        tick("50", 1, "MSFT"),
                        bar("100", "102", "99", "101.5", 2),
                    )
                ],
            )
            command.upgrade(config, "head")
            seeded = conn.execute(select(price_screens).order_by(price_screens.c.symbol)).all()
    finally:
        sync.dispose()
    assert [tuple(r) for r in seeded] == [("AAPL", D("101.5")), ("MSFT", D("50"))]


async def test_a_signal_gives_a_symbol_without_prices_its_first_reference(
    engine: AsyncEngine,
) -> None:
    intake = PriceIntake(engine)
    await intake.seed([signal(Pattern.SPRING), signal(Pattern.SOS)])  # 148.50 first
    assert await _reference(engine) == D("148.50")
    assert (await intake.append([tick(BAD, 1)])).held == 1
    await PriceIntake(engine).seed([signal(Pattern.SOS)])  # a reference is never replaced
    assert await _reference(engine) == D("148.50")
