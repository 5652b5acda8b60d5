"""What the engine's metrics and traces cost: CPU per entry pair and per price, with them off
and on.

    .venv/bin/python -m bench.stack.observability_bench [--pairs 30] [--rounds 30] [--notes T]

Three runs, each on a stack of its own (a dev server, a fresh database), with the worker and
the API as a deployment runs them (``python -m campaign_engine.worker``, ``campaigns api``),
configured by their environment, and this process posting to the API as the orchestrator does:

- **off**: ``METRICS_PORT=off``, no ``OTEL_EXPORTER_OTLP_ENDPOINT``;
- **metrics**: the worker's endpoint on, and both it and the API's ``/metrics`` scraped every
  second (a Prometheus at a 1 s interval; 15 s is the usual);
- **metrics + traces**: besides, ``OTEL_EXPORTER_OTLP_ENDPOINT`` at a sink in this process that
  takes the spans and answers 200, as a collector does (the spans received are counted).

Per run: ``--pairs`` ranges get a Spring then an SOS through ``POST /signals`` (one at a time,
each answered with its decision), until every position is open; then ``--rounds`` rounds of
one price per campaign in one ``POST /prices``, 0.6 s apart (each its own bar), crossing no
level, and 5 s for the campaigns to take the last. CPU is every process of the run (this one,
the worker, the API, Temporal, PostgreSQL) per entry pair and per price (one update to one
campaign); each figure stands beside the run with both off.
"""

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import httpx
from sqlalchemy import text

from bench.micro.cpu import CpuWindow
from bench.record import Anchor, Figure, add_notes_argument, record
from bench.scale.scale_stack import Stack, stack
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.policy import Policy
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.stack.processes import (
    API,
    WORKER,
    free_port,
    python_child,
    service_env,
    wait_until_healthy,
)
from campaign_engine.testing.builders import signal, trading_range

EQUITY = Decimal(100_000_000)
TASK_QUEUE = "campaigns-observability"
MODES = ("off", "metrics", "metrics + traces")
SETTLE = 5.0  # seconds after the last price, in its CPU window
ROUND_GAP = 0.6  # seconds between price rounds: past the publisher's 0.5 s, a bar each
MARKET_START = datetime(2024, 10, 15, 15, 0, tzinfo=UTC)  # after the signals' market time


@dataclass
class SpanSink:
    """An OTLP/HTTP receiver that keeps nothing: each export answered 200, counted."""

    exports: int = 0
    bytes: int = 0
    port: int = field(default_factory=free_port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                self.exports += 1
                self.bytes += length
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        async with server:
            yield f"http://127.0.0.1:{self.port}"


@dataclass
class Run:
    mode: str
    pair_ms: float = 0.0  # CPU per entry pair, every process
    price_ms: float = 0.0  # CPU per price (one update to one campaign)
    pair_split: str = ""
    price_split: str = ""
    spans_exports: int = 0
    scrapes: int = 0


@contextlib.asynccontextmanager
async def deployment(
    stack_: Stack, mode: str, sink: str | None
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """The worker and the API as processes, configured for ``mode``; a client of the API and
    the metrics addresses to scrape."""
    folder = Path(tempfile.mkdtemp(prefix="ce-observability-"))
    metrics_port, api_port = free_port(), free_port()
    settings = {
        "campaigns_task_queue": TASK_QUEUE,
        "account_equity": str(EQUITY),
        "metrics_port": str(metrics_port) if mode != "off" else "off",
    }
    if sink is not None:
        settings["otel_exporter_otlp_endpoint"] = sink
    env = service_env(
        stack_.temporal.service_client.config.target_host,
        stack_.url,
        namespace=stack_.temporal.namespace,
        **settings,
    )
    worker = python_child("worker", WORKER, folder, env)
    api = python_child("api", (*API, "--port", str(api_port)), folder, env)
    worker.start()
    api.start()
    url = f"http://127.0.0.1:{api_port}"
    try:
        await wait_until_healthy(url, 60.0, folder / "api.log")
        scraped = (
            [] if mode == "off" else [f"{url}/metrics", f"http://127.0.0.1:{metrics_port}/metrics"]
        )
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            yield http, scraped
    finally:
        for child in (api, worker):
            child.stop(30)


async def _scrape(targets: list[str], run: Run) -> None:
    """As a Prometheus at a 1 s interval would."""
    async with httpx.AsyncClient(timeout=5) as http:
        while True:
            for target in targets:
                with contextlib.suppress(httpx.HTTPError):
                    (await http.get(target)).raise_for_status()
                    run.scrapes += 1
            await asyncio.sleep(1.0)


async def _until_open(url: str, positions: int) -> None:
    engine = create_engine_for(url, pool_size=1)
    query = text("SELECT count(*) FROM positions WHERE open_shares > 0")
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                if (await conn.execute(query)).scalar_one() >= positions:
                    return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"fewer than {positions} positions opened")
    finally:
        await engine.dispose()


async def _entries(http: httpx.AsyncClient, stack_: Stack, symbols: list[str]) -> None:
    for symbol in symbols:
        rng = trading_range(symbol=symbol, range_id=uuid4())
        for pattern in (Pattern.SPRING, Pattern.SOS):
            # 0.1% each: 30 pairs take 6% heat, inside the 10% limit.
            body = signal(pattern, rng=rng, requested_risk_pct="0.1").model_dump(mode="json")
            plan = (await http.post("/api/v1/signals", json=body)).raise_for_status().json()
            assert plan["approved"], plan
    await _until_open(stack_.url, 2 * len(symbols))


async def _prices(http: httpx.AsyncClient, symbols: list[str], rounds: int) -> None:
    for n in range(rounds):
        price = "150.50" if n % 2 else "151.00"  # above the SOS's entry, below every target
        at = (MARKET_START + timedelta(minutes=n)).isoformat()
        body = [{"symbol": s, "as_of": at, "price": price} for s in symbols]
        (await http.post("/api/v1/prices", json=body)).raise_for_status()
        await asyncio.sleep(ROUND_GAP)
    await asyncio.sleep(SETTLE)


async def one_run(mode: str, pairs: int, rounds: int) -> Run:
    run = Run(mode)
    sink = SpanSink()
    symbols = [f"OB{i:03d}" for i in range(pairs)]
    async with stack(EQUITY, Policy()) as stack_, sink.running() as sink_url:
        traced = sink_url if mode == "metrics + traces" else None
        async with deployment(stack_, mode, traced) as (http, scraped):
            scraping = asyncio.create_task(_scrape(scraped, run)) if scraped else None
            with CpuWindow() as cpu:
                await _entries(http, stack_, symbols)
            run.pair_ms, run.pair_split = cpu.us_per(pairs) / 1000, cpu.per(pairs)
            with CpuWindow() as cpu:
                await _prices(http, symbols, rounds)
            prices = pairs * rounds
            run.price_ms, run.price_split = cpu.us_per(prices) / 1000, cpu.per(prices)
            if scraping is not None:
                scraping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scraping
        run.spans_exports = sink.exports
    print(
        f"  {mode:<17} CPU ms per entry pair {run.pair_split}; per price {run.price_split}; "
        f"{run.scrapes} scrapes, {run.spans_exports} span exports"
    )
    return run


def figures(runs: list[Run]) -> list[Figure]:
    off = runs[0]
    found = []
    for run in runs:
        found.append(
            Figure(
                f"CPU per entry pair, {run.mode}",
                run.pair_ms,
                "ms",
                run.pair_ms * 1000,
                Anchor("CPU per entry pair, both off", off.pair_ms, "ms"),
            )
        )
        found.append(
            Figure(
                f"CPU per price, {run.mode}",
                run.price_ms,
                "ms",
                run.price_ms * 1000,
                Anchor("CPU per price, both off", off.price_ms, "ms"),
            )
        )
    return found


async def main(pairs: int, rounds: int) -> list[Figure]:
    print(f"observability: {pairs} entry pairs, {rounds} rounds of {pairs} prices, per mode")
    print("  CPU ms split: bench+worker+API / temporal / postgres")
    runs = [await one_run(mode, pairs, rounds) for mode in MODES]
    for run in runs[1:]:
        print(
            f"  {run.mode}: entry pair {run.pair_ms / runs[0].pair_ms:.2f}x, "
            f"price {run.price_ms / runs[0].price_ms:.2f}x the run with both off"
        )
    return figures(runs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=30)
    add_notes_argument(parser)
    args = parser.parse_args()
    found = asyncio.run(main(args.pairs, args.rounds))
    record("observability_bench", "stack", found, args.notes)
