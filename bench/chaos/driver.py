"""The orchestrator: plays the waves over HTTP as a real one would, and waits between steps
until the campaigns have carried out what it sent, so that both runs feed every campaign the
same bars one at a time (bars the publisher merged would be a different input).

Sending: a connection error, a timeout or a 5xx (503 with its Retry-After) is retried with
backoff; a signal with the same signal_id (the API answers a repeated id with its first
decision), a price batch whose 202 did not arrive as the same batch. Any other answer is
final: a 422 for a signal is kept as its decision.

Waiting: the live workflow's state (Temporal query) has taken the step's bar (or closed), has
no order waiting for a fill, and the read model holds that version. A campaign that does not
get there within the stall limit is recorded as a stall and left behind: a bar acknowledged
with 202 that never reaches its campaign is lost."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from bench.chaos.play import Decide, Play, Prices
from campaign_engine.client.campaign_client import CampaignClient
from campaign_engine.db.engine import create_engine_for
from campaign_engine.db.schema import campaigns
from campaign_engine.temporal.converter import data_converter

V1 = "/api/v1"
RETRYABLE = {500, 502, 503, 504}
REQUEST_TIMEOUT = 30.0
GIVE_UP = 600.0  # seconds one request may be retried before the run is abandoned
POLL = 0.05
PROGRESS_EVERY = 25  # steps between progress lines
# Once a run has stalled it has failed: later waits are shorter (still longer than a killed
# worker's activities take to be retried, 10 s), and after MAX_STALLS the play is abandoned,
# so that a broken run ends in bounded time having shown what went wrong.
AFTER_A_STALL = 30.0
MAX_STALLS = 6
GIVE_UP_AFTER = 2  # stalls of one campaign before it is no longer waited for (stuck)

Hook = Callable[[int], Awaitable[None]]


async def _nothing(step: int) -> None:
    return None


@dataclass
class Log:
    retries: dict[str, int] = field(default_factory=dict)  # reason -> count
    final_refusals: list[str] = field(default_factory=list)
    stalls: list[str] = field(default_factory=list)
    acked_batches: int = 0
    decisions: int = 0

    def retry(self, reason: str) -> None:
        self.retries[reason] = self.retries.get(reason, 0) + 1

    def note(self, kind: list[str], line: str) -> None:
        kind.append(line)
        print(f"           {line}", flush=True)


class Observer:
    """The harness's own view of the campaigns: Temporal queries and the read model."""

    def __init__(self, temporal_address: str, database_url: str) -> None:
        self._address = temporal_address
        self._engine: AsyncEngine = create_engine_for(database_url, pool_size=4)
        self._client: CampaignClient | None = None
        self._failures = 0

    async def _campaigns(self) -> CampaignClient:
        if self._client is None:
            temporal = await Client.connect(self._address, data_converter=data_converter)
            self._client = CampaignClient(temporal)
        return self._client

    async def settled(self, campaign_id: str, at: datetime | None) -> tuple[bool, bool]:
        """(carried out, closed) for one campaign; any failure to look is (False, False)."""
        try:
            state = await (await self._campaigns()).status(campaign_id)
        except Exception:
            self._failures += 1
            if self._failures % 40 == 0:
                self._client = None  # after a server restart, connect afresh
            return False, False
        self._failures = 0
        if state is None or state.open_order_ids:
            return False, False
        closed = state.is_closed
        behind = at is not None and (state.last_price_at is None or state.last_price_at < at)
        if behind and not closed:
            return False, False
        try:
            async with self._engine.connect() as conn:
                query = select(campaigns.c.version, campaigns.c.closed_at).where(
                    campaigns.c.campaign_id == campaign_id
                )
                row = (await conn.execute(query)).first()
        except Exception:
            return False, False
        if row is None or row.version < state.version:
            return False, False
        return (row.closed_at is not None, True) if closed else (True, False)

    async def close(self) -> None:
        await self._engine.dispose()


class Driver:
    def __init__(
        self,
        api_url: str,
        observer: Observer,
        *,
        stall_seconds: float,
        before_step: Hook = _nothing,
        after_ack: Hook = _nothing,
    ) -> None:
        self.http = httpx.AsyncClient(base_url=api_url, timeout=REQUEST_TIMEOUT)
        self.observer = observer
        self.stall_seconds = stall_seconds
        self.before_step = before_step
        self.after_ack = after_ack
        self.log = Log()
        self.open: dict[str, str] = {}  # campaign id -> symbol
        self.stalled: dict[str, int] = {}  # campaign id -> stalls
        self.step = 0

    async def play(self, play: Play) -> None:
        try:
            for wave in play.waves:
                for step in wave:
                    self.step += 1
                    if self.step % PROGRESS_EVERY == 0:
                        print(f"           step {self.step}/{play.steps}", flush=True)
                    await self.before_step(self.step)
                    if isinstance(step, Decide):
                        await self._settle(await self.decide(step), None)
                    else:
                        await self.post(step)
                        await self.after_ack(self.step)
                        await self._settle([c for c, s in self.open.items() if step.at(s)], step)
                    if len(self.log.stalls) >= MAX_STALLS:
                        self.log.note(
                            self.log.stalls,
                            f"play abandoned at step {self.step} of {play.steps} after "
                            f"{MAX_STALLS} stalls",
                        )
                        return
        finally:
            await self.http.aclose()

    async def _send(self, path: str, body: Any, ok: int) -> httpx.Response:
        delay, deadline = 0.2, time.monotonic() + GIVE_UP
        while True:
            wait = delay
            try:
                response = await self.http.post(V1 + path, json=body)
                if response.status_code == ok or response.status_code not in RETRYABLE:
                    return response
                self.log.retry(f"{path} {response.status_code}")
                wait = float(response.headers.get("retry-after") or delay)
            except httpx.TransportError as error:
                self.log.retry(f"{path} {type(error).__name__}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"POST {path} kept failing for {GIVE_UP:.0f} s")
            await asyncio.sleep(wait)
            delay = min(delay * 2, 5.0)

    async def decide(self, step: Decide) -> list[str]:
        """The step's signals decided; the ids of the campaigns they approved."""
        bodies = [s.model_dump(mode="json") for s in step.signals]
        single = len(bodies) == 1
        response = await self._send(
            "/signals" if single else "/signals/batch", bodies[0] if single else bodies, 200
        )
        self.log.decisions += len(bodies)
        if response.status_code != 200:
            ids = ", ".join(str(s.signal_id) for s in step.signals)
            self.log.note(
                self.log.final_refusals,
                f"step {self.step}: {ids} answered {response.status_code}: {response.text[:200]}",
            )
            return []
        answer = response.json()
        approved = []
        for plan in answer if isinstance(answer, list) else [answer]:
            if plan["approved"]:
                signal = next(s for s in step.signals if str(s.signal_id) == plan["signal_id"])
                self.open[plan["campaign_id"]] = signal.symbol
                approved.append(plan["campaign_id"])
        return approved

    async def post(self, step: Prices) -> None:
        body = [u.model_dump(mode="json", exclude_none=True) for u in step.updates]
        response = await self._send("/prices", body, 202)
        if response.status_code != 202:
            self.log.note(
                self.log.final_refusals,
                f"step {self.step}: prices answered {response.status_code}: {response.text[:200]}",
            )
            return
        self.log.acked_batches += 1

    async def _settle(self, waiting: list[str], step: Prices | None) -> None:
        limit = min(self.stall_seconds, AFTER_A_STALL) if self.log.stalls else self.stall_seconds
        deadline = time.monotonic() + limit
        pending = set(waiting)
        while pending:
            ids = sorted(pending)
            looks = await asyncio.gather(
                *(self.observer.settled(c, step.at(self.open[c]) if step else None) for c in ids)
            )
            for campaign_id, (done, closed) in zip(ids, looks, strict=True):
                if done:
                    pending.discard(campaign_id)
                    if closed:
                        self.open.pop(campaign_id, None)
            if pending and time.monotonic() > deadline:
                what = "its bar" if step else "its decision"
                self.log.note(
                    self.log.stalls,
                    f"step {self.step}: {len(pending)} campaign(s) did not carry out {what} "
                    f"within {limit:.0f} s: {', '.join(sorted(pending)[:6])}",
                )
                for campaign_id in pending:
                    self.stalled[campaign_id] = self.stalled.get(campaign_id, 0) + 1
                    if self.stalled[campaign_id] >= GIVE_UP_AFTER:
                        self.open.pop(campaign_id, None)
                        print(f"           {campaign_id} is stuck: no longer waited for")
                return
            if pending:
                await asyncio.sleep(POLL)

    async def settle_all(self) -> None:
        """Every campaign still open carried out whatever it was last sent."""
        await self._settle(list(self.open), None)
