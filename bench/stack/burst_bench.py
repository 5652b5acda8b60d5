"""A burst of prices, one per campaign, from their acceptance to the live stream's message the
dashboard redraws its row from, with the stages between timed.

    .venv/bin/python -m bench.stack.burst_bench [--campaigns N] [--posts one|many|both] [--notes T]

A dev server, a fresh database, one worker process (``python -m campaign_engine.worker``) and
an API server in this process, with a WebSocket client reading ``/api/v1/ws`` as the page
does. ``--campaigns`` campaigns are opened (a Spring each, on a symbol of its own), then two
bursts are posted, each one price per campaign: in one POST (``--posts one``) or one POST per
campaign, 32 at once (``many``); ``both`` (the default) runs each on a stack of its own.

1. **Marks**: a price that crosses none of a campaign's levels (149.00: it writes nothing), up
   to the campaign's ``mark`` message. Stages: *intake* (the POST answered: appended to the
   intake and the bars due sent), *stream* (the mark received), and the campaigns taking
   the price (*delivery* and *decision*, as for exits). Its CPU window ends ``SETTLE``
   seconds after the marks, so that it holds the campaigns taking the price (checked).
2. **Exits**: a price through every Spring's stop (146.50: it exits), up to the first
   ``event`` of the campaign and its ``campaign`` message. Stages, per campaign, each from
   the POST's start: *intake* (the POST answered), *delivery* (Temporal took the price signal:
   its history's event time), *decision* (the first workflow task completed after it),
   *persistence* (the audit trail's ``recorded_at`` of the exit, the transaction's start),
   *stream* (the event received on the socket), *row* (the campaign's message received) and
   *row first changed* (the first message that shows the campaign at the price: its mark, or
   its change carrying that mark, or the exit booked; what the page redraws the row from).

Times are this machine's wall clock in every process (Temporal's and PostgreSQL's clocks are
the same clock), each counted from when the campaign's price was posted (with many POSTs, a
price waiting for one of the client's 32 connections is not counted); each figure is the
p50/p99/max over the campaigns. CPU is per campaign over
each burst, by process group (bench+API and the worker / Temporal / PostgreSQL).
"""

import argparse
import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from websockets.asyncio.client import ClientConnection, connect

from bench.micro.cpu import CpuWindow
from bench.record import Figure, add_notes_argument, record
from bench.scale.scale_stack import Stack, open_campaigns, spring, stack, trading_range
from bench.stack.decision_cost import percentile
from bench.stack.served_api import served_api
from campaign_engine.db.engine import create_engine_for
from campaign_engine.domain.policy import Policy
from campaign_engine.temporal.messages import workflow_id_for

EQUITY = Decimal(100_000_000)
RISK_PCT = Decimal("0.01")  # 300 campaigns: 3% heat
MANY_AT_ONCE = 32
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
SETTLE = 8.0  # seconds after the marks, in their CPU window: the campaigns take the price


@dataclass
class Arrivals:
    """What the socket received, per campaign, as this machine's time.time()."""

    # price -> campaign id -> when its first mark at that price came
    marks: dict[str, dict[str, float]] = field(default_factory=dict)
    events: dict[str, float] = field(default_factory=dict)  # first event after the burst
    rows: dict[str, float] = field(default_factory=dict)  # first campaign message after it
    since: float = 0.0  # the events and rows counted are those after this


async def _read(ws: ClientConnection, seen: Arrivals) -> None:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        now = time.time()
        kind = message["type"]
        if kind == "mark":
            at_price = seen.marks.setdefault(message["last_price"], {})
            at_price.setdefault(message["campaign_id"], now)
        elif seen.since and kind == "event":
            seen.events.setdefault(message["campaign_id"], now)
        elif seen.since and kind == "campaign":
            campaign = message["campaign"]
            # Its mark, when the price came with the campaign's change: the row shows it too.
            mark = campaign.get("mark") or {}
            if mark.get("last_price") is not None:
                at_price = seen.marks.setdefault(mark["last_price"], {})
                at_price.setdefault(campaign["campaign_id"], now)
            if campaign["metrics"]["open_positions_count"] == 0:  # the exit is booked
                seen.rows.setdefault(campaign["campaign_id"], now)


async def _post(
    http: httpx.AsyncClient, prices: list[dict[str, str]], posts: str
) -> tuple[list[float], dict[str, float]]:
    """Post the burst: each POST's answer in seconds, and when each symbol's price was posted
    (time.time(): where its figures count from, so that a price waiting for the client to
    send it is not counted against the engine)."""
    limit = asyncio.Semaphore(MANY_AT_ONCE)
    answered: list[float] = []
    sent: dict[str, float] = {}

    async def one(body: list[dict[str, str]]) -> None:
        async with limit:
            started = time.time()
            sent.update((p["symbol"], started) for p in body)
            answer = await http.post("/api/v1/prices", json=body if posts == "one" else body[0])
            answered.append(time.time() - started)
        assert answer.status_code == 202, answer.text

    await asyncio.gather(*(one(b) for b in ([prices] if posts == "one" else [[p] for p in prices])))
    return answered, sent


async def _until(done: Any, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(done) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)} of {count} arrived")
        await asyncio.sleep(0.01)


def _stats(name: str, seconds: list[float], cpu_us: float | None) -> list[Figure]:
    many = len(seconds) > 1  # one POST: one answer
    shown = {
        "p50": percentile(seconds, 50) if many else seconds[0],
        "p99": percentile(seconds, 99) if many else seconds[0],
        "max": max(seconds),
    }
    print(f"    {name:<28}" + "  ".join(f"{k} {1000 * v:7.0f} ms" for k, v in shown.items()))
    return [Figure(f"{name} {k}", 1000 * v, "ms", cpu_us, None) for k, v in shown.items()]


async def _stages(
    stack_: Stack, engine: Any, sent: dict[str, float], started: float
) -> dict[str, list[float]]:
    """Per campaign (id -> when its price was posted), seconds from then to Temporal's signal,
    the next workflow task completed, and the first event's recording; only what came after
    the burst ``started``."""
    delivered, decided = [], []
    for campaign_id, posted in sent.items():
        handle = stack_.temporal.get_workflow_handle(workflow_id_for(campaign_id))
        history = await handle.fetch_history()
        signal_at = None
        for event in history.events:
            at = event.event_time.ToDatetime(tzinfo=UTC).timestamp()
            if at < started:
                continue
            if signal_at is None and event.event_type == SIGNALED:
                signal_at = at
                delivered.append(at - posted)
            elif signal_at is not None and event.event_type == TASK_COMPLETED:
                decided.append(at - posted)
                break
    query = text(
        "SELECT campaign_id, min(recorded_at) FROM audit_trail"
        " WHERE recorded_at >= :since GROUP BY campaign_id"
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query, {"since": datetime.fromtimestamp(started, UTC)})).all()
    persisted = [r[1].timestamp() - sent[r[0]] for r in rows if r[0] in sent]
    return {"delivery": delivered, "decision": decided, "persistence": persisted}


async def main(count: int, posts: str) -> list[Figure]:
    print(f"burst: {count} campaigns, prices in {posts} POST(s)")
    figures: list[Figure] = []
    async with stack(EQUITY, Policy()) as stack_:
        settings = stack_.settings()
        client = stack_.client(settings)
        engine = create_engine_for(stack_.url, pool_size=2)
        async with stack_.worker_processes(settings, 1), served_api(stack_, client) as http:
            symbols = [f"B{i:03d}" for i in range(count)]
            signals = [spring(trading_range(s, i), RISK_PCT) for i, s in enumerate(symbols)]
            approved = await open_campaigns(client, signals)
            assert all(approved), "every campaign opens"
            ids = [s.trading_range.campaign_id for s in signals]
            await _until_open(engine, count)
            await asyncio.sleep(1.5)  # past the publisher's directory cache
            base = f"{http.base_url}".replace("http://", "ws://").rstrip("/")
            seen = Arrivals()
            async with connect(f"{base}/api/v1/ws", max_size=None) as ws:
                reading = asyncio.create_task(_read(ws, seen))
                at = datetime.now(UTC)
                # 1. Marks: a price that crosses nothing.
                prices = [
                    {"symbol": s, "as_of": at.isoformat(), "price": "149.00"} for s in symbols
                ]
                with CpuWindow() as cpu:
                    started = time.time()
                    answered, sent = await _post(http, prices, posts)
                    await _until(seen.marks.setdefault("149", {}), count)
                    await asyncio.sleep(SETTLE)  # the campaigns take the price meanwhile
                print(f"  marks ({posts}): CPU ms per campaign {cpu.per(count)}")
                per = cpu.us_per(count)
                posted = {c: sent[s] for c, s in zip(ids, symbols, strict=True)}
                stages = await _stages(stack_, engine, posted, started)
                if len(stages["decision"]) < count:
                    raise RuntimeError(f"SETTLE too short: {len(stages['decision'])} took it")
                figures += _stats("marks: intake", answered, per)
                marked = seen.marks["149"]
                figures += _stats("marks: stream", [t - posted[c] for c, t in marked.items()], per)
                for name in ("delivery", "decision"):
                    figures += _stats(f"marks: {name}", stages[name], per)
                # 2. Exits: a price through every stop.
                later = (at + timedelta(minutes=1)).isoformat()
                prices = [{"symbol": s, "as_of": later, "price": "146.50"} for s in symbols]
                with CpuWindow() as cpu:
                    started = seen.since = time.time()
                    answered, sent = await _post(http, prices, posts)
                    await _until(seen.rows, count)
                print(f"  exits ({posts}): CPU ms per campaign {cpu.per(count)}")
                per = cpu.us_per(count)
                posted = {c: sent[s] for c, s in zip(ids, symbols, strict=True)}
                stages = await _stages(stack_, engine, posted, started)
                figures += _stats("exits: intake", answered, per)
                for name in ("delivery", "decision", "persistence"):
                    figures += _stats(f"exits: {name}", stages[name], per)
                events, rows = seen.events.items(), seen.rows.items()
                figures += _stats("exits: stream", [t - posted[c] for c, t in events], per)
                figures += _stats("exits: row", [t - posted[c] for c, t in rows], per)
                # What the page shows first: the mark at the price, or (exited before it was
                # marked) the campaign's change.
                marked = seen.marks.get("146.5", {})
                first = [min(marked.get(c, t), t) - posted[c] for c, t in rows]
                figures += _stats("exits: row first changed", first, per)
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
        await engine.dispose()
    return figures


async def _until_open(engine: Any, count: int) -> None:
    query = text("SELECT count(*) FROM positions WHERE open_shares > 0")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        async with engine.connect() as conn:
            if (await conn.execute(query)).scalar_one() >= count:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError("the campaigns did not all open")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=300)
    parser.add_argument(
        "--posts", choices=("one", "many", "both"), default="both", help="both: one, then many"
    )
    add_notes_argument(parser)
    args = parser.parse_args()
    figures = []
    for posts in ("one", "many") if args.posts == "both" else (args.posts,):
        label = "one POST" if posts == "one" else f"{args.campaigns} POSTs"
        for figure in asyncio.run(main(args.campaigns, posts)):
            figures.append(replace(figure, name=f"{label}, {figure.name}"))
    record("burst_bench", "stack", figures, args.notes)
