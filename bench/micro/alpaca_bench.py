"""What the Alpaca broker costs the worker, against the local fake Alpaca (tests/support).

    .venv/bin/python -m bench.micro.alpaca_bench [--calls 300] [--events 2000] [--notes TEXT]

The fake serves from a thread of its own (its own event loop); the broker and the stream
listener run in the main thread, and CPU is the main thread's (``time.thread_time``): what a
worker pays, without the server's share. Wall time is over loopback, so it says little about
Alpaca itself (tens of milliseconds away). Figures:

- submit: one POST /v2/orders and its answer read;
- get_order: an order with two fills (GET by client order id, GET its FILL activities);
- stream: fills pushed over the websocket, each read and turned into a ``BrokerOrder`` for a
  (counting) sink;
- event, in memory: one trade_updates message parsed and turned into a ``BrokerOrder`` (best
  of five passes).

Each figure is recorded in ``bench/results/alpaca_bench.json`` as its wall time per operation
with the main thread's CPU per operation; none has a raw anchor.
"""

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial

from bench.record import Figure, add_notes_argument, record
from campaign_engine.brokers.alpaca.broker import AlpacaBroker
from campaign_engine.brokers.alpaca.config import AlpacaConfig
from campaign_engine.brokers.alpaca.stream import TradeUpdatesListener
from campaign_engine.brokers.alpaca.wire import TradeUpdate, loads
from campaign_engine.domain.orders import BrokerOrder
from campaign_engine.testing.alpaca import config_for, entry_order
from campaign_engine.testing.fake_alpaca import FakeAlpaca, serving

D = Decimal


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.done = asyncio.Event()
        self.expected = 0

    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


class _FakeThread:
    """The fake Alpaca served in a thread with its own loop."""

    def __init__(self) -> None:
        self.fake = FakeAlpaca()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FakeAlpaca:
        self._thread.start()
        self._ready.wait(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def call(self, action: Callable[[], object]) -> None:
        self.loop.call_soon_threadsafe(action)

    def _run(self) -> None:
        async def serve() -> None:
            self._stop = asyncio.Event()
            async with serving(self.fake):
                self._ready.set()
                await self._stop.wait()

        self.loop.run_until_complete(serve())


def _fill_twice(fake: FakeAlpaca, client_order_id: str) -> None:
    fake.fill(client_order_id, D(100))
    fake.fill(client_order_id, D(233))


async def _timed(calls: int, one: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    for n in range(calls):
        await one(n)
    return (time.perf_counter() - wall) / calls, (time.thread_time() - cpu) / calls


def _line(name: str, wall: float, cpu: float) -> Figure:
    print(f"{name:<34} wall {wall * 1e3:8.3f} ms/op   CPU {cpu * 1e3:8.3f} ms/op")
    return Figure(f"{name}: wall per op", wall * 1e3, "ms", cpu * 1e6, None)


async def _run(served: _FakeThread, fake: FakeAlpaca, calls: int, events: int) -> list[Figure]:
    config = config_for(fake, requests_per_minute=10**9)  # the budget would pace us
    async with AlpacaBroker(config) as broker:
        ids = [f"B{n}-2024-10-15:SPRING:ENTRY" for n in range(calls)]
        wall, cpu = await _timed(calls, lambda n: broker.submit(entry_order(ids[n])))
        figures = [_line("submit", wall, cpu)]
        for coid in ids:
            served.call(partial(_fill_twice, fake, coid))
        await asyncio.sleep(1)
        wall, cpu = await _timed(calls, lambda n: broker.get_order(ids[n]))
        figures.append(_line("get_order (2 fills)", wall, cpu))

        sink = _Counter()
        sink.expected = events
        async with TradeUpdatesListener(config, broker, sink) as listener:
            await asyncio.wait_for(listener.listening.wait(), 10)
            coids = [f"S{n}-2024-10-15:SOS:ENTRY" for n in range(events // 2)]
            for coid in coids:
                await broker.submit(entry_order(coid))
            await asyncio.sleep(0.5)
            wall, cpu = time.perf_counter(), time.thread_time()
            for coid in coids:
                served.call(partial(_fill_twice, fake, coid))
            await asyncio.wait_for(sink.done.wait(), 120)
            per = sink.count
            streamed = _line(
                "stream, per fill delivered",
                (time.perf_counter() - wall) / per,
                (time.thread_time() - cpu) / per,
            )
        return [*figures, streamed, await _in_memory(config, broker, events)]


async def _in_memory(config: AlpacaConfig, broker: AlpacaBroker, events: int) -> Figure:
    """A trade_updates message -> BrokerOrder, with no socket: parse and report only."""
    book = FakeAlpaca().book
    messages: list[bytes] = []
    book.publish = lambda e: messages.append(
        json.dumps({"stream": "trade_updates", "data": e}).encode()
    )
    for n in range(events):
        coid = f"M{n}-2024-10-15:LPS:ENTRY"
        book.place(
            {
                "symbol": "AAPL",
                "qty": "333",
                "side": "buy",
                "type": "limit",
                "time_in_force": "gtc",
                "limit_price": "150",
                "client_order_id": coid,
            }
        )
        book.fill(coid, D(100), D(150))
    fills = [m for m in messages if b'"partial_fill"' in m]
    listener = TradeUpdatesListener(config, broker, _Counter())
    samples = []
    for _ in range(5):
        cpu = time.thread_time()
        for raw in fills:
            await listener.report(TradeUpdate.model_validate(loads(raw)["data"]))
        samples.append((time.thread_time() - cpu) / len(fills))
    best = min(samples)
    return _line("event parsed + reported, in memory", best, best)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--events", type=int, default=2000)
    add_notes_argument(parser)
    args = parser.parse_args()
    served = _FakeThread()
    with served as fake:
        figures = asyncio.run(_run(served, fake, args.calls, args.events))
    record("alpaca_bench", "micro", figures, args.notes)


if __name__ == "__main__":
    main()
