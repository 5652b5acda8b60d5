"""The outbox relay against a real PostgreSQL: every recorded event goes out in audit order to
every channel, at least once, by one relay at a time, and leaves the outbox empty."""

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import audit_trail, outbox
from campaign_engine.domain.events import CampaignEvent, StopsTrailed, make_event
from campaign_engine.formats.event_json import event_data
from campaign_engine.runtime.backoff import Backoff, Retry
from campaign_engine.services.outbox_relay import OutboxRelay
from campaign_engine.testing.builders import D, as_price
from tests.support.harness import eventually

FAST = timedelta(milliseconds=20)
T0 = datetime(2024, 10, 15, 14, 30, tzinfo=UTC)


class Recording:
    def __init__(self, name: str = "recording") -> None:
        self.name = name
        self.events: list[CampaignEvent] = []

    async def send(self, event: CampaignEvent) -> None:
        self.events.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.events]


class FailsOnSecond(Recording):
    """Fails on the second event it is given in each batch, to show it is skipped for the
    rest of that batch only."""

    def __init__(self) -> None:
        super().__init__("flaky")
        self.calls = 0

    async def send(self, event: CampaignEvent) -> None:
        self.calls += 1
        if self.calls % 2 == 0:
            raise ConnectionError("chat service is down")
        await super().send(event)


class Broken:
    name = "broken"

    async def send(self, event: CampaignEvent) -> None:
        raise ConnectionError("chat service is down")


class Cancelled:
    """Stands for a worker cancelled in the middle of a pass: not an ``Exception``."""

    name = "cancelled"

    async def send(self, event: CampaignEvent) -> None:
        raise asyncio.CancelledError


class Gate(Recording):
    """Holds the first pass inside its send until opened."""

    def __init__(self) -> None:
        super().__init__("gate")
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def send(self, event: CampaignEvent) -> None:
        self.entered.set()
        await self.opened.wait()
        await super().send(event)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine_for(database_url, pool_size=4)
    yield engine
    await engine.dispose()


def _event(n: int, campaign: str = "AAPL-2024-10-15") -> CampaignEvent:
    return make_event(
        StopsTrailed(price=as_price(D("150.25") + n)),
        campaign_id=campaign,
        version=n,
        occurred_at=T0 + timedelta(minutes=n),
        correlation_id=f"price-{n}",
        sequence=0,
    )


async def record(engine: AsyncEngine, events: list[CampaignEvent]) -> list[str]:
    """What persistence does for a change: the audit rows and their outbox rows, committed
    together. Returns the event ids in audit order."""
    async with engine.begin() as conn:
        for event in events:
            seq = await conn.scalar(
                insert(audit_trail)
                .values(
                    event_id=event.event_id,
                    campaign_id=event.campaign_id,
                    event_type=event.type.value,
                    version=event.version,
                    occurred_at=event.occurred_at,
                    correlation_id=event.correlation_id,
                    data=event_data(event),
                )
                .returning(audit_trail.c.seq)
            )
            await conn.execute(insert(outbox).values(audit_seq=seq))
    return [e.event_id for e in events]


async def outbox_size(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)


async def drain(relay: OutboxRelay) -> list[int]:
    taken = [await relay.relay_once()]
    while taken[-1]:
        taken.append(await relay.relay_once())
    return taken


async def test_events_go_out_in_audit_order_to_every_channel(engine: AsyncEngine) -> None:
    # Two campaigns interleaved: the order is the audit trail's, not one campaign's after the
    # other's.
    ids = await record(engine, [_event(n, "AAPL-1" if n % 2 else "MSFT-1") for n in range(1, 8)])
    first, second = Recording("first"), Recording("second")
    relay = OutboxRelay(engine, [first, second], batch=3)

    assert await drain(relay) == [3, 3, 1, 0]

    assert first.ids == ids
    assert second.ids == ids
    assert first.events[0] == _event(1, "AAPL-1")  # every field survives the round trip
    assert event_data(first.events[0]) == {
        "kind": "StopsTrailed",
        "price": "151.25",
        "stops_moved": [],
    }
    assert first.events[0].occurred_at.tzinfo == UTC
    assert await outbox_size(engine) == 0


async def test_running_relay_announces_new_events_and_stops_cleanly(engine: AsyncEngine) -> None:
    channel = Recording()
    async with OutboxRelay(engine, [channel], interval=FAST, batch=5):
        ids = await record(engine, [_event(n) for n in range(1, 4)])
        ids += await record(engine, [_event(n) for n in range(4, 17)])

        async def all_sent() -> bool:
            return channel.ids == ids

        await eventually(all_sent, timeout=10)
    assert await outbox_size(engine) == 0


async def test_a_failing_channel_does_not_stop_the_others(engine: AsyncEngine) -> None:
    ids = await record(engine, [_event(n) for n in range(1, 7)])
    flaky, working = FailsOnSecond(), Recording()
    relay = OutboxRelay(engine, [Broken(), flaky, working], batch=3)

    assert await drain(relay) == [3, 3, 0]

    assert working.ids == ids
    # Skipped for the rest of each batch after its failure, and not sent those events again.
    assert flaky.ids == [ids[0], ids[3]]
    assert await outbox_size(engine) == 0


async def test_a_pass_cancelled_before_commit_leaves_its_events_to_announce_again(
    engine: AsyncEngine,
) -> None:
    ids = await record(engine, [_event(n) for n in range(1, 4)])
    first = Recording("first")

    with pytest.raises(asyncio.CancelledError):
        await OutboxRelay(engine, [first, Cancelled()]).relay_once()

    assert first.ids == ids  # announced once already ...
    assert await outbox_size(engine) == 3
    again = Recording("again")
    assert await OutboxRelay(engine, [again]).relay_once() == 3
    assert again.ids == ids  # ... and again: at least once
    assert await outbox_size(engine) == 0


class KillsItsConnection(Recording):
    """On its first event, terminates the relay's database connection (the one holding the
    relay's lock), as a database restart or a network failure would."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__("killer")
        self._engine = engine
        self.killed = 0

    async def send(self, event: CampaignEvent) -> None:
        if not self.killed:
            async with self._engine.connect() as conn:
                self.killed = int(
                    await conn.scalar(
                        text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                            "WHERE locktype = 'advisory' AND granted "
                            "AND database = (SELECT oid FROM pg_database "
                            "WHERE datname = current_database())"
                        )
                    )
                    or 0
                )
        await super().send(event)


async def test_a_database_failure_mid_pass_is_retried_and_the_relay_goes_on(
    engine: AsyncEngine,
) -> None:
    ids = await record(engine, [_event(n) for n in range(1, 4)])
    channel = KillsItsConnection(engine)
    async with OutboxRelay(engine, [channel], interval=FAST):

        async def drained() -> bool:
            return await outbox_size(engine) == 0

        await eventually(drained, timeout=10)
        assert channel.killed == 1
        # The failed pass's events went out, then the next pass announced them all again.
        assert channel.ids == ids + ids

        # The relay survived the failure: it still announces what comes next.
        later = await record(engine, [_event(4)])

        async def announced() -> bool:
            return channel.ids[-1:] == later

        await eventually(announced, timeout=10)


async def test_only_one_relay_announces_at_a_time(engine: AsyncEngine, database_url: str) -> None:
    ids = await record(engine, [_event(n) for n in range(1, 4)])
    gate = Gate()
    other_engine = create_engine_for(database_url, pool_size=2)
    try:
        holder = asyncio.create_task(OutboxRelay(engine, [gate]).relay_once())
        await gate.entered.wait()
        other = Recording()
        # The lock is held for the whole pass: the other relay does nothing, not even wait.
        assert await OutboxRelay(other_engine, [other]).relay_once() == 0
        gate.opened.set()
        assert await holder == 3
        assert await OutboxRelay(other_engine, [other]).relay_once() == 0
    finally:
        await other_engine.dispose()
    assert gate.ids == ids
    assert other.ids == []


async def test_two_relays_running_at_once_never_announce_an_event_twice(
    engine: AsyncEngine, database_url: str
) -> None:
    shared = Recording("shared")

    class Slow(Recording):
        async def send(self, event: CampaignEvent) -> None:
            await asyncio.sleep(0.001)  # lets the other relay try while a pass is under way
            await shared.send(event)

    other_engine = create_engine_for(database_url, pool_size=2)
    ids: list[str] = []
    try:
        async with (
            OutboxRelay(engine, [Slow()], interval=FAST, batch=7),
            OutboxRelay(other_engine, [Slow()], interval=FAST, batch=7),
        ):
            for start in range(1, 121, 12):
                ids += await record(engine, [_event(n) for n in range(start, start + 12)])
                await asyncio.sleep(0.01)

            async def all_sent() -> bool:
                return len(shared.ids) >= len(ids)

            await eventually(all_sent, timeout=20)
    finally:
        await other_engine.dispose()
    assert shared.ids == ids  # each once, in audit order
    assert await outbox_size(engine) == 0


async def test_a_relay_without_channels_still_drains_the_outbox(engine: AsyncEngine) -> None:
    await record(engine, [_event(n) for n in range(1, 451)])
    async with OutboxRelay(engine, [], interval=timedelta(hours=1)):
        # A full batch goes again at once: no interval between the three passes.
        async def drained() -> bool:
            return await outbox_size(engine) == 0

        await eventually(drained, timeout=10)


async def test_leaving_finishes_the_batch_in_hand(engine: AsyncEngine) -> None:
    ids = await record(engine, [_event(n) for n in range(1, 4)])
    gate = Gate()
    relay = OutboxRelay(engine, [gate], interval=FAST)
    await relay.__aenter__()
    await gate.entered.wait()
    leaving = asyncio.create_task(relay.__aexit__(None, None, None))
    await asyncio.sleep(0.05)
    assert not leaving.done()  # waits for the pass under way ...
    gate.opened.set()
    await leaving
    assert gate.ids == ids  # ... which finished and committed
    assert await outbox_size(engine) == 0


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


async def test_a_dead_database_is_logged_once_however_often_the_relay_retries() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = create_engine_for(f"postgresql://postgres@127.0.0.1:{probe.getsockname()[1]}/x")
    log = Log()
    retry = Retry("database", log, backoff=Backoff(start=0.01, cap=0.05), loop="outbox_relay")
    try:
        async with OutboxRelay(dead, [Recording()], interval=FAST, retry=retry):
            await eventually(lambda: _at_least(retry.backoff.attempts, 5))
    finally:
        await dead.dispose()
    (line,) = log.lines
    assert line[0] == "dependency_down"
    assert line[1]["what"] == "database" and "OperationalError" in line[1]["error"]


async def _at_least(value: int, least: int) -> bool:
    return value >= least
