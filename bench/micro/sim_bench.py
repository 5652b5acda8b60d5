"""CPU and wall time of the simulated broker (``BROKER=sim``) per call: an entry placed (it
rests), an exit placed (its first part fills), an entry placed under a buying-power limit (the
committed money summed over the whole book), and the exchange matching a bar: on a symbol with
no resting order (what every bar of the price flow costs) and on one whose bar fills a part of
each of its resting orders.

    .venv/bin/python -m bench.micro.sim_bench [--calls 300] [--resting 20] [--notes TEXT]

Runs against DATABASE_URL's server (in a throwaway database of its own) or else an embedded
PostgreSQL. CPU is this process's (time.process_time): the worker's for submissions, the API
process's for bars; the server's own work shows only in the wall time.
"""

import argparse
import asyncio
import platform
from dataclasses import replace
from decimal import Decimal
from functools import partial

from bench.micro.db_bench import Timing, database, timed
from bench.record import add_notes_argument, record
from campaign_engine.brokers.sim.broker import SimBroker
from campaign_engine.brokers.sim.config import SimConfig
from campaign_engine.brokers.sim.exchange import SimExchange
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.orders import BrokerOrder, Order
from campaign_engine.domain.types import MoneyValue, QuantityValue
from campaign_engine.domain.vocabulary import OrderPurpose, OrderSide, OrderType, Pattern
from campaign_engine.testing.builders import Book, bar, signal

D = Decimal


class NoPushes:
    async def deliver(self, campaign_id: str, update: BrokerOrder) -> None:
        return None


def _entry_template() -> Order:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SOS))
    (template,) = book.orders
    return template


def entries(prefix: str, count: int, symbol: str = "AAPL") -> list[Order]:
    template = _entry_template()
    return [replace(template, client_order_id=f"{prefix}:{i}", symbol=symbol) for i in range(count)]


def exits(count: int) -> list[Order]:
    template = _entry_template()
    return [
        replace(
            template,
            client_order_id=f"exit:{i}",
            symbol="EXIT",
            side=OrderSide.SELL,
            order_type=OrderType.MARKET,
            purpose=OrderPurpose.STOP,
            limit_price=None,
            quantity=QuantityValue(D(100)),
        )
        for i in range(count)
    ]


async def run(url: str, calls: int, resting: int) -> list[Timing]:
    engine = create_engine_for(url, pool_size=2)
    config = SimConfig(fill_fraction=D("0.5"))
    broker = SimBroker(engine, config)
    limited = SimBroker(engine, config.model_copy(update={"buying_power": MoneyValue(D("1e12"))}))
    exchange = SimExchange(engine, config, NoPushes())
    n = 20 + calls
    results: list[Timing] = [
        await timed("submit entry", [partial(broker.submit, o) for o in entries("e", n)]),
        await timed("submit exit", [partial(broker.submit, o) for o in exits(n)]),
        await timed(
            "submit entry, buying power",
            [partial(limited.submit, o) for o in entries("bp", n, symbol="BP")],
        ),
    ]
    quiet = [bar("150", "151", "149", "150", i + 1, symbol="QUIET") for i in range(n)]
    results.append(await timed("bar, no order", [partial(exchange.on_bar, b) for b in quiet]))
    # Each timed bar trades through the 150.25 limit of ``resting`` orders of its own symbol,
    # placed beforehand, and fills a first part of each (as an entry's first bar below its
    # limit does).
    for i in range(n):
        for order in entries(f"rest{i}", resting, symbol=f"R{i}"):
            await broker.submit(order)
    through = [bar("150", "151", "149", "150", 1, symbol=f"R{i}") for i in range(n)]
    results.append(
        await timed(f"bar, fills {resting}", [partial(exchange.on_bar, b) for b in through])
    )
    await engine.dispose()
    print(f"Python {platform.python_version()} on {platform.machine()}")
    print(f"{'call':<28} {'calls':>6} {'CPU ms':>10} {'wall ms':>10}")
    for result in results:
        cpu, wall = 1000 * result.cpu_s / result.calls, 1000 * result.wall_s / result.calls
        print(f"{result.name:<28} {result.calls:>6} {cpu:>10.3f} {wall:>10.3f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls of each kind")
    parser.add_argument("--resting", type=int, default=20, help="orders a filling bar fills")
    add_notes_argument(parser)
    args = parser.parse_args()
    with database() as url:
        results = asyncio.run(run(url, args.calls, args.resting))
    figures = [result.figure() for result in results]
    record("sim_bench", "micro", figures, args.notes)


if __name__ == "__main__":
    main()
