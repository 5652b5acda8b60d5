"""Worker CPU and wall time of the database calls on the hot path of a campaign decision: a
snapshot save with the events of its change, a portfolio reservation, a paper-broker submission.

    .venv/bin/python -m bench.micro.db_bench [--calls 300] [--notes TEXT]

Runs against DATABASE_URL's server (in a throwaway database of its own) or else an embedded
PostgreSQL. CPU is this process's (time.process_time), i.e. what the worker pays; the server's
own work shows only in the wall time. ``--repository`` and ``--broker`` name other modules
defining ``CampaignRepository`` and ``PaperBroker``, to measure an older implementation copied
aside (e.g. ``PYTHONPATH=/tmp/old --repository old_repository``). ``--trading-limits`` gives
the repository a policy with the loss limits set (3% a day, 15% drawdown), so every save
assesses the trading state under the portfolio's lock (SPEC section 11).
"""

import argparse
import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from bench.record import Figure, add_notes_argument, record
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.entry import AdmissionRequest
from campaign_engine.domain.orders import Order
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.stack.databases import own_database
from campaign_engine.temporal.messages import PersistRequest
from campaign_engine.testing.builders import Book, reservation, signal, tick, trading_range

D = Decimal
WARMUP = 20
# Large enough that the saved campaigns' risk leaves every reservation room under the heat
# limit: the approved path, which also writes the exposure, is the one worth timing.
BENCH_EQUITY = D("1000000000")


@dataclass(frozen=True)
class Timing:
    name: str
    calls: int
    cpu_s: float
    wall_s: float

    def row(self) -> str:
        cpu, wall = 1000 * self.cpu_s / self.calls, 1000 * self.wall_s / self.calls
        return f"{self.name:<8} {self.calls:>6} {cpu:>10.3f} {wall:>10.3f}"

    def figure(self) -> Figure:
        """The wall time per call, with this process's CPU per call (no raw anchor is
        measured beside these calls)."""
        wall_ms, cpu_us = 1000 * self.wall_s / self.calls, 1e6 * self.cpu_s / self.calls
        return Figure(f"{self.name}: wall per call", wall_ms, "ms", cpu_us, None)


async def timed(name: str, calls: Sequence[Callable[[], Awaitable[object]]]) -> Timing:
    """The first WARMUP calls fill the pool and the statement caches and are not counted."""
    for call in calls[:WARMUP]:
        await call()
    counted = calls[WARMUP:]
    cpu, wall = time.process_time(), time.perf_counter()
    for call in counted:
        await call()
    return Timing(name, len(counted), time.process_time() - cpu, time.perf_counter() - wall)


def campaign_saves(campaigns: int) -> list[PersistRequest]:
    """Each campaign's first two snapshots: created by a filled SPRING, then a filled SOS and
    a first target reached, each with the events of that change only (as the workflow saves)."""
    saves = []
    for i in range(campaigns):
        rng = trading_range(symbol=f"S{i}", range_id=UUID(int=i + 1))
        book = Book(state=CampaignState.for_range(rng))
        book.submit(signal(Pattern.SPRING, rng=rng))
        saves.append(PersistRequest(revision=1, state=book.state, events=tuple(book.events)))
        seen = len(book.events)
        book.submit(signal(Pattern.SOS, rng=rng))
        book.price(tick("152.00", 1, symbol=rng.symbol))
        saves.append(PersistRequest(revision=2, state=book.state, events=tuple(book.events[seen:])))
    return saves


def reservations(count: int) -> list[AdmissionRequest]:
    return [
        reservation(f"R{i}-2024-10-15", f"R{i}", risk_pct=D("0.01"), policy=Policy())
        for i in range(count)
    ]


def orders(count: int) -> list[Order]:
    book = Book(fill_orders=False)
    book.submit(signal(Pattern.SOS))
    (template,) = book.orders
    return [replace(template, client_order_id=f"bench:{i}") for i in range(count)]


async def run(
    url: str, calls: int, repository_module: str, broker_module: str, *, limits: bool = False
) -> list[Timing]:
    repository_class: Any = importlib.import_module(repository_module).CampaignRepository
    broker_class: Any = importlib.import_module(broker_module).PaperBroker
    engine = create_engine_for(url, pool_size=2)
    repository = (
        repository_class(engine, Policy(max_daily_loss_pct=D(3), max_drawdown_pct=D(15)))
        if limits
        else repository_class(engine)
    )
    broker = broker_class(engine)
    await repository.ensure_portfolio(BENCH_EQUITY)
    saves = campaign_saves((WARMUP + calls + 1) // 2)
    results = [
        await timed("save", [partial(repository.save, r) for r in saves]),
        await timed(
            "reserve", [partial(repository.reserve, r) for r in reservations(WARMUP + calls)]
        ),
        await timed("submit", [partial(broker.submit, o) for o in orders(WARMUP + calls)]),
    ]
    await engine.dispose()
    print(f"{repository_module} / {broker_module}{' / trading limits' if limits else ''}")
    print(f"{'call':<8} {'calls':>6} {'CPU ms':>10} {'wall ms':>10}")
    for result in results:
        print(result.row())
    return results


@contextmanager
def database() -> Iterator[str]:
    """A database of the bench's own, dropped afterwards."""
    with own_database("ce_bench_") as own:
        yield own.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls of each kind")
    parser.add_argument("--repository", default="campaign_engine.db.repository")
    parser.add_argument("--broker", default="campaign_engine.brokers.paper")
    parser.add_argument("--trading-limits", action="store_true", help="loss limits set")
    add_notes_argument(parser)
    args = parser.parse_args()
    with database() as url:
        results = asyncio.run(
            run(url, args.calls, args.repository, args.broker, limits=args.trading_limits)
        )
    figures = [result.figure() for result in results]
    record("db_bench", "micro", figures, args.notes)


if __name__ == "__main__":
    main()
