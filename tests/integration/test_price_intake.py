"""The durable price intake against a real PostgreSQL: a publisher started after another one
stopped (without flushing, or mid-send) delivers what it left, and never a bar that reaches
back over prices a campaign may have taken."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.db.schema import price_intake
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.publisher import OpenCampaign, PricePublisher
from campaign_engine.testing.builders import T0, tick

D = Decimal
CAMPAIGN = OpenCampaign("AAPL-2024-10-15", T0)
SLOW = timedelta(hours=1)  # no bar is sent unless the test says so


class Directory:
    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        return [CAMPAIGN] if symbol == "AAPL" else []


class Campaign:
    """The campaign's side of the wire: what it takes, and what it ignores as stale."""

    def __init__(self) -> None:
        self.taken: list[PriceUpdate] = []
        self.stale: list[PriceUpdate] = []
        self.hang = False

    async def __call__(self, campaign_id: str, update: PriceUpdate) -> None:
        if self.hang:  # the process dies while the signal is on its way
            await asyncio.Event().wait()
        if self.taken and update.as_of <= self.taken[-1].as_of:
            self.stale.append(update)
        else:
            self.taken.append(update)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def _accept(intake: PriceIntake, publisher: PricePublisher, *updates: PriceUpdate) -> None:
    """What POST /prices does before its 202."""
    for update, seq in zip(updates, (await intake.append(updates)).seqs, strict=True):
        publisher.accept(update, seq)


async def test_prices_accepted_but_never_sent_reach_the_campaign_after_a_restart(
    engine: AsyncEngine,
) -> None:
    intake, campaign = PriceIntake(engine), Campaign()
    first = PricePublisher(campaign, Directory(), interval=SLOW, journal=intake)
    await _accept(intake, first, tick("150.00", 1), tick("147.00", 2), tick("151.00", 3))
    del first  # gone without a flush: the 202 had been answered, nothing sent

    async with PricePublisher(campaign, Directory(), interval=SLOW, journal=intake) as second:
        assert await second.ready(5)
        await second.flush(catch_up=True)
    (bar,) = campaign.taken
    assert (bar.bar_open, bar.bar_low, bar.bar_high, bar.last) == (
        D("150.00"),
        D("147.00"),
        D("151.00"),
        D("151.00"),
    )
    assert bar.as_of == tick("151.00", 3).as_of


async def test_a_send_cut_short_is_repeated_alone_before_anything_newer(
    engine: AsyncEngine,
) -> None:
    intake, campaign = PriceIntake(engine), Campaign()
    first = PricePublisher(campaign, Directory(), interval=SLOW, journal=intake)
    await _accept(intake, first, tick("150.00", 1))
    await first.flush()  # taken: up to minute 1
    await _accept(intake, first, tick("149.00", 2), tick("150.50", 3))
    campaign.hang = True
    sending = asyncio.create_task(first.flush())
    await asyncio.sleep(0.2)  # recorded as being sent, then the process dies
    sending.cancel()
    # Whether the cut-short bar arrived is unknown: say it did.
    campaign.hang = False
    campaign.taken.append(tick("150.50", 3))

    second = PricePublisher(campaign, Directory(), interval=SLOW, journal=intake)
    async with second:
        assert await second.ready(5)
        await second.flush(catch_up=True)
        await _accept(intake, second, tick("148.00", 4))
        await second.flush()
    # Minutes 2-3 again (ignored whole as stale), then minute 4 alone: no bar reached back
    # from minute 4 over the prices of minutes 2 and 3.
    (repeated,) = campaign.stale
    assert (repeated.as_of, repeated.bar_low, repeated.bar_high) == (
        tick("150.50", 3).as_of,
        D("149.00"),
        D("150.50"),
    )
    newest = campaign.taken[-1]
    assert (newest.as_of, newest.bar_open, newest.bar_low) == (
        tick("148.00", 4).as_of,
        D("148.00"),
        D("148.00"),
    )


async def test_prune_keeps_a_window_per_symbol_and_every_row_not_yet_in_a_bar(
    engine: AsyncEngine,
) -> None:
    intake, campaign = PriceIntake(engine), Campaign()
    publisher = PricePublisher(campaign, Directory(), interval=SLOW, journal=intake)
    await _accept(intake, publisher, *(tick(f"{150 + i}.00", i) for i in range(1, 6)))
    await publisher.flush()
    await _accept(intake, publisher, tick("149.00", 6), tick("149.50", 7))  # no bar yet
    assert await intake.prune(keep=3) == 4  # minutes 1-4; 5 is in the window, 6-7 pending
    assert await intake.prune(keep=1) == 1  # minute 5; 6 is outside the window but pending
    async with engine.connect() as conn:
        left = (await conn.execute(select(price_intake.c.price_update))).scalars().all()
    assert [PriceUpdate.model_validate(row) for row in left] == [
        tick("149.00", 6),
        tick("149.50", 7),
    ]


class EverySymbol:
    """A campaign open on each symbol."""

    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        return [OpenCampaign(f"{symbol}-2024-10-15", T0)]


async def test_symbols_flushed_together_are_recorded_together_and_all_restored(
    engine: AsyncEngine,
) -> None:
    intake, campaign = PriceIntake(engine), Campaign()
    publisher = PricePublisher(campaign, EverySymbol(), interval=SLOW, journal=intake)
    symbols = [f"S{i:02d}" for i in range(40)]
    await _accept(intake, publisher, *(tick("150.00", 1, symbol=s) for s in symbols))
    assert await publisher.flush() == 40  # a bar to each symbol's campaign
    # Each symbol records before it sends; those waiting on a write go in the next one.
    assert 1 <= intake.record_writes < 40
    restored = await PriceIntake(engine).restore()
    assert sorted(restored.flushed) == symbols
    assert sorted(d.campaign_id for d in restored.deliveries) == [
        f"{s}-2024-10-15" for s in symbols
    ]
    assert {d.sending_until for d in restored.deliveries} == {tick("150.00", 1).as_of}
