"""What the live stream costs the API: reading the audit trail after a cursor, and one save
followed through the API process's listener (NOTIFY at commit, the read of the new events,
the campaign and portfolio read for the sockets) until the events are ready to push
("follow save": the wall time from the save's commit until then, and the CPU the listener
spent meanwhile).

    .venv/bin/python -m bench.stack.stream_bench [--campaigns 150] [--gap 0.1] [--notes TEXT]

Runs against DATABASE_URL's server (in a throwaway database of its own) or else an embedded
PostgreSQL. CPU is this process's (time.process_time); the server's work shows only in the
wall time.
"""

import argparse
import asyncio
import time

from bench.micro.db_bench import BENCH_EQUITY, Timing, campaign_saves, database
from bench.record import add_notes_argument, record
from campaign_engine.api.live.hub import EventHub, Seen
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.event_stream import START, EventStream
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.domain.policy import Policy

PAGE = 500


def row(timing: Timing) -> str:
    cpu, wall = 1000 * timing.cpu_s / timing.calls, 1000 * timing.wall_s / timing.calls
    return f"{timing.name:<12} {timing.calls:>6} {cpu:>10.3f} {wall:>10.3f}"


async def run(url: str, campaigns: int, gap: float) -> list[Timing]:
    engine = create_engine_for(url, pool_size=4)
    repository = CampaignRepository(engine)
    await repository.ensure_portfolio(BENCH_EQUITY)
    saves = campaign_saves(campaigns)
    half = len(saves) // 2
    for request in saves[:half]:  # a trail to read
        await repository.save(request)

    stream = EventStream(engine)
    cursor, events, pages = START, 0, 0
    cpu, wall = time.process_time(), time.perf_counter()
    while page := await stream.after(cursor, PAGE):
        cursor, events, pages = page[-1].cursor, events + len(page), pages + 1
    read_cpu, read_wall = time.process_time() - cpu, time.perf_counter() - wall

    followed = saves[half:]
    save_cpu = save_wall = follow_cpu = follow_wall = 0.0
    hub = EventHub(engine, Policy(), poll=5.0, gap=gap)
    async with hub, hub.attached():  # as one socket streams: the hub reads what it shows
        while not hub.listening:
            await asyncio.sleep(0.01)
        for request in followed:
            before = hub.head
            cpu, wall = time.process_time(), time.perf_counter()
            await repository.save(request)
            saved_cpu, saved = time.process_time(), time.perf_counter()
            save_cpu, save_wall = save_cpu + saved_cpu - cpu, save_wall + saved - wall
            # The hub's work for this save (its read, the campaign and the portfolio) runs
            # in this process while we wait: the CPU of the wait is the follow's cost.
            await hub.wait_beyond(Seen(before, hub.marks.seq, hub.portfolio_seq, before), 5.0)
            follow_cpu += time.process_time() - saved_cpu
            follow_wall += time.perf_counter() - saved
    await engine.dispose()
    print(f"{events} events read in {pages} pages of up to {PAGE}; {len(followed)} saves followed")
    print(f"{'':<12} {'calls':>6} {'CPU ms':>10} {'wall ms':>10}")
    timings = [
        Timing("read page", pages, read_cpu, read_wall),
        Timing("read event", events, read_cpu, read_wall),
        Timing("save", len(followed), save_cpu, save_wall),
        Timing("follow save", len(followed), follow_cpu, follow_wall),
    ]
    for timing in timings:
        print(row(timing))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=150, help="campaigns saved twice each")
    parser.add_argument(
        "--gap", type=float, default=0.1, help="the listener's least seconds between reads"
    )
    add_notes_argument(parser)
    args = parser.parse_args()
    with database() as url:
        timings = asyncio.run(run(url, args.campaigns, args.gap))
    figures = [timing.figure() for timing in timings]
    record("stream_bench", "stack", figures, args.notes)


if __name__ == "__main__":
    main()
