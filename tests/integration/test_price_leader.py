"""Two processes' price deliveries on one PostgreSQL: only the one holding the lock delivers,
whichever process appended; when its connection is killed, the other takes over and delivers
what was left, nothing twice."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for, libpq_url
from campaign_engine.db.price_deliveries import DELIVERY_LOCK, Delivery, NotLeader
from campaign_engine.db.price_intake import PriceIntake
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.price_feed.leader import PriceDelivery
from campaign_engine.price_feed.publisher import OpenCampaign, PricePublisher
from campaign_engine.testing.builders import T0, tick

CAMPAIGN = OpenCampaign("AAPL-2024-10-15", T0)
FAST = timedelta(milliseconds=50)


class Directory:
    async def open_campaigns(self, symbol: str) -> Sequence[OpenCampaign]:
        return [CAMPAIGN] if symbol == "AAPL" else []


class Campaign:
    """The campaign's side of the wire: what it took from which process, and what it ignored
    as stale."""

    def __init__(self) -> None:
        self.taken: list[tuple[str, PriceUpdate]] = []
        self.stale: list[PriceUpdate] = []

    def sender(self, process: str) -> "Sender":
        return Sender(self, process)

    def times(self) -> list[int]:
        return [int((u.as_of - T0).total_seconds() // 60) for _, u in self.taken]


class Sender:
    def __init__(self, campaign: Campaign, process: str) -> None:
        self.campaign, self.process, self.hang = campaign, process, False

    async def __call__(self, campaign_id: str, update: PriceUpdate) -> None:
        if self.hang:  # the process is cut off while the signal is on its way
            await asyncio.Event().wait()
        taken = self.campaign.taken
        if taken and update.as_of <= taken[-1][1].as_of:
            self.campaign.stale.append(update)
        else:
            taken.append((self.process, update))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=4)
    yield engine
    await engine.dispose()


def _delivery(engine: AsyncEngine, send: Sender) -> PriceDelivery:
    def publisher(journal: PriceIntake) -> PricePublisher:
        return PricePublisher(send, Directory(), interval=FAST, catch_up=FAST, journal=journal)

    return PriceDelivery(engine, publisher, poll=timedelta(seconds=5), takeover=FAST)


async def _until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while True:
            outcome = check()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            await asyncio.sleep(0.02)


async def _kill_lock_holder(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = "
                "'advisory' AND granted AND classid::bigint = :high AND objid::bigint = :low "
                # Advisory locks are per database: the leaders of other tests' databases on a
                # shared server hold the same key.
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"high": DELIVERY_LOCK >> 32, "low": DELIVERY_LOCK % 2**32},
        )
    assert killed == 1


async def test_only_the_lock_holder_delivers_what_either_process_appended(
    engine: AsyncEngine,
) -> None:
    campaign = Campaign()
    a, b = campaign.sender("a"), campaign.sender("b")
    async with _delivery(engine, a) as first:
        await _until(lambda: first.leading)
        async with _delivery(engine, b) as second:
            await asyncio.sleep(0.3)  # many of its tries at the lock
            assert not second.leading
            # Appended by the process that does not deliver: the leader is notified.
            await PriceIntake(engine).append([tick("150.00", 1)])
            await _until(lambda: campaign.times() == [1])
            await PriceIntake(engine).append([tick("150.50", 2)])
            first.appended()
            await _until(lambda: campaign.times() == [1, 2])
            assert not second.leading
    assert [process for process, _ in campaign.taken] == ["a", "a"]
    assert campaign.stale == []


async def test_a_leader_whose_connection_is_killed_leaves_the_rest_to_the_other(
    engine: AsyncEngine,
) -> None:
    campaign = Campaign()
    a, b = campaign.sender("a"), campaign.sender("b")
    intake = PriceIntake(engine)
    async with _delivery(engine, a) as first, _delivery(engine, b) as second:
        await _until(lambda: first.leading or second.leading)
        leader, other = (a, b) if first.leading else (b, a)
        await intake.append([tick("150.00", 1)])
        await _until(lambda: campaign.times() == [1])
        leader.hang = True
        await intake.append([tick("149.00", 2), tick("150.40", 3)])  # recorded, never arrives
        await asyncio.sleep(0.3)
        assert campaign.times() == [1]
        await _kill_lock_holder(engine)
        await intake.append([tick("150.80", 4)])
        await _until(lambda: campaign.times()[-1:] == [4])
        assert first.leading != second.leading
        assert (first if other is a else second).leading  # the other one took over
    # Minutes 2-3 sent again over exactly their span (the campaign had not had them), then
    # minute 4 alone; the cut-off leader's send never arrived; nothing twice.
    assert [(p, int((u.as_of - T0).total_seconds() // 60)) for p, u in campaign.taken] == [
        (leader.process, 1),
        (other.process, 3),
        (other.process, 4),
    ]
    repeated = campaign.taken[1][1]
    assert (repeated.bar_low, repeated.bar_high) == (tick("149.00", 2).last, tick("150.40", 3).last)
    assert campaign.stale == []


async def test_appends_commit_in_seq_order_whoever_appends(engine: AsyncEngine) -> None:
    """Rows appended concurrently by two processes become visible in seq order, so a reader
    after the last seq it read skips none."""
    first, second = PriceIntake(engine), PriceIntake(engine)
    seen: list[int] = []

    async def read() -> None:
        for _ in range(200):
            seen.extend(row.seq for row in await first.after(seen[-1] if seen else 0))
            await asyncio.sleep(0)

    appends = [
        (first if i % 2 else second).append([tick(f"{150 + i % 5}.00", i)]) for i in range(1, 61)
    ]
    await asyncio.gather(read(), *appends)
    seen.extend(row.seq for row in await first.after(seen[-1] if seen else 0))
    assert len(seen) == 60 == len(set(seen))


async def test_a_journal_records_only_while_its_session_holds_the_lock(
    engine: AsyncEngine, database_url: str
) -> None:
    sending = [Delivery(CAMPAIGN.campaign_id, None, tick("150.00", 1).as_of)]
    async with await psycopg.AsyncConnection.connect(
        libpq_url(database_url), autocommit=True
    ) as holder:
        journal = PriceIntake(engine).fenced(holder.info.backend_pid)
        with pytest.raises(NotLeader):  # not taken yet
            await journal.record("AAPL", None, sending)
        await holder.execute("SELECT pg_advisory_lock(%s)", (DELIVERY_LOCK,))
        await journal.record("AAPL", None, sending)
        await holder.execute("SELECT pg_advisory_unlock(%s)", (DELIVERY_LOCK,))
        with pytest.raises(NotLeader):  # given up
            await journal.settle({CAMPAIGN.campaign_id: tick("150.00", 1).as_of})
    restored = await PriceIntake(engine).restore()
    assert restored.deliveries == sending  # the one write made while the lock was held
