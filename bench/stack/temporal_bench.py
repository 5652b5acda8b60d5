"""Campaign operations on a real Temporal dev server and PostgreSQL, each next to the raw
Temporal round trip it is built on, measured in the same run on the same server.

    .venv/bin/python -m bench.stack.temporal_bench [--samples 200] [--campaigns 1000] \
        [--notes TEXT]

- first entry decision (update-with-start creating the campaign) vs a raw update-with-start
  that creates a workflow whose update returns at once;
- later entry decision (update on the running campaign) vs a raw update on a running workflow,
  and vs a raw update that answers through one no-op local activity (the floor of any design
  that asks the database before it answers);
- price fan-out over N campaigns through the publisher vs raw signals to N running workflows,
  with the number of stop crossings the campaigns missed (must be 0).

Decisions are measured back to back (the goal figures: each decision then shares the machine
with the effects of the one before, which the raw anchors do not have) and paced, one every
``--pause-ms``, ours and the anchors alike (what one decision costs on a machine at rest).
"""

import argparse
import asyncio
import platform
import sys
from decimal import Decimal

from temporalio.worker import Worker

from bench.micro.cpu import watch_postgres
from bench.micro.raw_anchor import RawAnchor, raw_noop
from bench.micro.raw_runs import (
    RAW_QUEUE,
    raw_signal_throughput,
    raw_update,
    raw_update_with_start,
)
from bench.micro.raw_transaction import RawTransaction
from bench.record import Anchor, Figure, add_notes_argument, record
from bench.scale.scale_stack import trading_range
from bench.stack.campaign_runs import campaign_decisions, fan_out
from bench.stack.decision_cost import (
    PAIR,
    RAW_PAIR_EVENTS,
    RAW_START,
    RAW_UPDATE,
    CpuMeter,
    anatomy,
    events_of,
    latency_figures,
    line,
)
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.repository import CampaignRepository
from campaign_engine.runtime.settings import Settings
from campaign_engine.stack.databases import own_database
from campaign_engine.stack.temporal_server import local_temporal
from campaign_engine.temporal.messages import workflow_id_for
from campaign_engine.worker import build_worker

D = Decimal


RAW_LA, RAW_PG = "raw update + no-op local activity", "raw update + one PG transaction (LA)"


async def main(samples: int, campaign_count: int, rounds: int, pause_ms: int) -> list[Figure]:
    print(
        f"campaign-engine Temporal benchmark, CPython {sys.version.split()[0]} on "
        f"{platform.machine()}; {samples} samples per latency, {campaign_count} campaigns"
    )
    with own_database("ce_bench_") as database:
        if database.data_dir is not None:
            watch_postgres(data_dir=str(database.data_dir))
        else:
            watch_postgres(database=database.name)
        return await measure(database.url, samples, campaign_count, rounds, pause_ms)


async def measure(
    url: str, samples: int, campaign_count: int, rounds: int, pause_ms: int
) -> list[Figure]:
    env = await local_temporal()
    settings = Settings(database_url=url, metrics_port=None, task_queue="campaigns-bench")
    engine = create_engine_for(url)
    await CampaignRepository(engine).ensure_portfolio(D("100000"))
    client = CampaignClient(env.client, policy=settings.policy, task_queue=settings.task_queue)
    campaign_worker = build_worker(env.client, engine, settings, channels=[])
    transaction = RawTransaction(engine)
    await transaction.prepare()
    raw_worker = Worker(
        env.client,
        task_queue=RAW_QUEUE,
        workflows=[RawAnchor],
        activities=[raw_noop, transaction.raw_transaction],
    )
    pause = pause_ms / 1000
    async with campaign_worker, raw_worker:
        await raw_update_with_start(env.client, 20)  # warm up both paths
        await campaign_decisions(client, 20, first_day=4000)
        cpu = CpuMeter()
        anchor_start = await cpu.measure(
            RAW_START, samples, raw_update_with_start(env.client, samples)
        )
        anchor_update = await cpu.measure(RAW_UPDATE, samples, raw_update(env.client, samples))
        floor = await cpu.measure(
            RAW_LA,
            samples,
            raw_update(env.client, samples, through="noop"),
        )
        true_floor = await cpu.measure(
            RAW_PG,
            samples,
            raw_update(env.client, samples, through="transaction"),
        )
        await cpu.measure(
            "raw update + activity after answer",
            samples,
            raw_update(env.client, samples, through="activity after"),
        )
        await asyncio.sleep(1)  # the last follow-up activity finishes outside the next phase
        first, later = await cpu.measure(
            PAIR,
            samples,
            campaign_decisions(client, samples, first_day=5000),
        )
        # The last pair's campaign, read at once: its two decisions and their effects (a
        # campaign polling its broker adds a timer, two workflow tasks and an activity per poll).
        await asyncio.sleep(1)
        last = trading_range(f"D{(samples - 1) % 10}", 5000 + samples - 1)
        pair_events = await events_of(env.client, workflow_id_for(last.campaign_id))
        paced_anchor_start = await raw_update_with_start(env.client, samples, pause)
        paced_anchor_update = await raw_update(env.client, samples, pause)
        paced_floor = await raw_update(env.client, samples, pause, through="noop")
        paced_true_floor = await raw_update(env.client, samples, pause, through="transaction")
        paced_first, paced_later = await campaign_decisions(client, samples, 6000, pause)
        raw_rate = await raw_signal_throughput(env.client, campaign_count, rounds)
        fan_rate, missed = await fan_out(client, settings, campaign_count, rounds)
    await engine.dispose()
    await env.shutdown()
    print("back to back (the goals):")
    print(line("first entry decision", first, anchor_start, 1.5, 2))
    print(line("later entry decision", later, anchor_update, 1.5, 2))
    print(line("  vs the LA floor", later, floor, 1.5, 2))
    print(line("  vs one PG transaction", later, true_floor, 1.3, 1.6))
    print(f"paced, one every {pause_ms} ms:")
    print(line("first entry decision", paced_first, paced_anchor_start, 1.5, 2))
    print(line("later entry decision", paced_later, paced_anchor_update, 1.5, 2))
    print(line("  vs the LA floor", paced_later, paced_floor, 1.5, 2))
    print(line("  vs one PG transaction", paced_later, paced_true_floor, 1.3, 1.6))
    print(line("  (LA floor vs update)", paced_floor, paced_anchor_update, 1.5, 2))
    print(cpu.report())
    print(cpu.pair_line())
    print(anatomy(pair_events, raw=RAW_PAIR_EVENTS))
    print(
        f"  {'price fan-out':<24} {fan_rate:8.0f} signals/s vs raw signals {raw_rate:8.0f}/s "
        f"({fan_rate / raw_rate:4.2f}x, goal >= 0.5x), {missed} missed crossings (goal 0)"
    )
    paced = f"paced every {pause_ms} ms: "
    return [
        *latency_figures("first entry decision", first, RAW_START, anchor_start),
        *latency_figures("later entry decision", later, RAW_UPDATE, anchor_update),
        *latency_figures("later entry decision", later, RAW_LA, floor),
        *latency_figures("later entry decision", later, RAW_PG, true_floor),
        *latency_figures(f"{paced}first entry", paced_first, RAW_START, paced_anchor_start),
        *latency_figures(f"{paced}later entry", paced_later, RAW_UPDATE, paced_anchor_update),
        *latency_figures(f"{paced}later entry", paced_later, RAW_LA, paced_floor),
        *latency_figures(f"{paced}later entry", paced_later, RAW_PG, paced_true_floor),
        cpu.pair_figure(),
        Figure("an entry pair's history", sum(pair_events.values()), "events", None, None),
        Figure(
            "price fan-out",
            fan_rate,
            "signals/s",
            None,
            Anchor("raw signals", raw_rate, "signals/s"),
        ),
        Figure("missed stop crossings (goal 0)", missed, "campaigns", None, None),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pause-ms", type=int, default=100)
    add_notes_argument(parser)
    args = parser.parse_args()
    figures = asyncio.run(main(args.samples, args.campaigns, args.rounds, args.pause_ms))
    record("temporal_bench", "stack", figures, args.notes)
