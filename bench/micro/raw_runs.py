"""The raw Temporal runs every campaign figure is measured against, on the same server in the
same run: updates with start, updates answering at once or through a local activity (a no-op, or
one PostgreSQL transaction), updates followed by an activity, signals fanned out."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench.micro.raw_anchor import RawAnchor

RAW_QUEUE = "raw-anchor"


async def timed(
    calls: Sequence[Callable[[], Awaitable[object]]], pause: float = 0.0
) -> list[float]:
    latencies = []
    for call in calls:
        if pause:
            await asyncio.sleep(pause)
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def raw_update_with_start(client: Client, samples: int, pause: float = 0.0) -> list[float]:
    async def one() -> None:
        start = WithStartWorkflowOperation(
            RawAnchor.run,
            id=f"raw-{uuid.uuid4()}",
            task_queue=RAW_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        await client.execute_update_with_start_workflow(
            RawAnchor.ping, "x", start_workflow_operation=start
        )

    return await timed([one] * samples, pause)


async def raw_update(
    client: Client, samples: int, pause: float = 0.0, through: str = "nothing"
) -> list[float]:
    """Raw updates on one running workflow, answering at once (``nothing``), through a no-op
    local activity (``noop``), through one PostgreSQL transaction (``transaction``), or at once
    followed by one no-op regular activity (``activity after``)."""
    handle = await client.start_workflow(
        RawAnchor.run, id=f"raw-{uuid.uuid4()}", task_queue=RAW_QUEUE
    )
    update = {
        "nothing": RawAnchor.ping,
        "noop": RawAnchor.ping_through_local_activity,
        "transaction": RawAnchor.ping_through_transaction,
        "activity after": RawAnchor.ping_then_activity,
    }[through]
    return await timed([lambda: handle.execute_update(update, "x")] * samples, pause)


async def raw_signal_throughput(client: Client, workflows: int, rounds: int) -> float:
    handles = await asyncio.gather(
        *(
            client.start_workflow(RawAnchor.run, id=f"raw-fan-{uuid.uuid4()}", task_queue=RAW_QUEUE)
            for _ in range(workflows)
        )
    )
    limit = asyncio.Semaphore(64)  # the publisher's default concurrency

    async def send(handle: WorkflowHandle[RawAnchor, int]) -> None:
        async with limit:
            await handle.signal(RawAnchor.tick, "x")

    started = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(send(h) for h in handles))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(h.signal(RawAnchor.finish) for h in handles))
    return workflows * rounds / elapsed
