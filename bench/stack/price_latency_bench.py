"""POST /prices -> the campaign's stop out, one campaign at a time, through real API servers.

    .venv/bin/python -m bench.stack.price_latency_bench [--samples N] [--apis 1|2] [--notes TEXT]

A dev server, a fresh database (embedded, or a new one where ``DATABASE_URL`` points), the
worker in this process and ``--apis`` API servers on that database (in this process too). Each
sample opens a Spring on a symbol of its own, waits until it is open (and 1.2 s more), then
POSTs the price that breaks its stop (to the APIs in turn) and times the answer and the read
model showing the campaign closed (polled every 5 ms). The stop out's figures carry the CPU of
a whole sample (its open and its stop out, every process); no raw anchor is measured."""

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.micro.cpu import CpuWindow
from bench.record import Figure, add_notes_argument, record
from bench.scale.scale_stack import open_campaigns, spring, stack, trading_range
from bench.stack.decision_cost import percentile
from bench.stack.served_api import served_api
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import campaigns
from campaign_engine.domain.policy import Policy

EQUITY = Decimal(10_000_000)


async def main(samples: int, apis: int) -> list[Figure]:
    print(
        f"price latency: {samples} samples, {apis} API process(es), load {os.getloadavg()[0]:.2f}"
    )
    async with stack(EQUITY, Policy()) as stack_:
        settings = stack_.settings()
        client = stack_.client(settings)
        engine = create_engine_for(stack_.url, pool_size=2)
        async with stack_.worker(settings), contextlib.AsyncExitStack() as servers:
            https = [
                await servers.enter_async_context(served_api(stack_, client)) for _ in range(apis)
            ]
            answers, closes = [], []
            with CpuWindow() as cpu:
                for i in range(samples):
                    symbol = f"L{i}"
                    signal = spring(trading_range(symbol, i), Decimal("0.1"))
                    (approved,) = await open_campaigns(client, [signal])
                    assert approved
                    await _until_open(engine, symbol)
                    # Past the publisher's directory cache (1 s): the campaign is a target
                    # by the time the price comes, whichever process delivers.
                    await asyncio.sleep(1.2)
                    price = {
                        "symbol": symbol,
                        "as_of": datetime.now(UTC).isoformat(),
                        "price": "146.50",
                    }
                    started = time.perf_counter()
                    answer = await https[i % apis].post("/api/v1/prices", json=price)
                    answered = time.perf_counter() - started
                    assert answer.status_code == 202, answer.text
                    closed = await _until_closed(engine, symbol, started)
                    answers.append(answered)
                    closes.append(closed)
                    print(
                        f"  {i:3d} via API {i % apis}: answered {1000 * answered:6.1f} ms, "
                        f"closed {1000 * closed:7.1f} ms"
                    )
        await engine.dispose()
    figures = []
    for name, values in (("answer", answers), ("stop out", closes)):
        shown = {"p50": percentile(values, 50), "p95": percentile(values, 95), "max": max(values)}
        print(f"  {name}: " + ", ".join(f"{k} {1000 * v:.1f} ms" for k, v in shown.items()))
        figures += [Figure(f"{name} {k}", 1000 * v, "ms", None, None) for k, v in shown.items()]
    # The CPU is measured over whole samples (a campaign opened, 1.2 s waited, the price and the
    # stop-out), not the stop-out alone: its own figure, not the latencies' CPU per op.
    whole_sample = cpu.us_per(samples)
    sample = "a sample: open, wait 1.2 s, stop out"
    figures.append(Figure(sample, whole_sample / 1000, "CPU ms", whole_sample, None))
    print(
        f"  CPU ms per sample (bench+worker+APIs / Temporal / PostgreSQL, open and stop "
        f"out): {cpu.per(samples)}"
    )
    print(f"  load at the end {os.getloadavg()[0]:.2f}")
    return figures


async def _until_open(engine: AsyncEngine, symbol: str) -> None:
    await _poll(engine, symbol, lambda row: row.status in ("ACTIVE", "MARKUP"))


async def _until_closed(engine: AsyncEngine, symbol: str, started: float) -> float:
    await _poll(engine, symbol, lambda row: row.closed_at is not None)
    return time.perf_counter() - started


async def _poll(engine: AsyncEngine, symbol: str, done: Callable[[Any], bool]) -> None:
    deadline = time.perf_counter() + 60
    query = select(campaigns.c.status, campaigns.c.closed_at).where(campaigns.c.symbol == symbol)
    while time.perf_counter() < deadline:
        async with engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is not None and done(row):
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(symbol)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--apis", type=int, default=1)
    add_notes_argument(parser)
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments.samples, arguments.apis))
    record("price_latency_bench", "stack", figures, arguments.notes)
