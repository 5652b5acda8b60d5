"""A backtest's timeline played through the live stack (REST API, Temporal, PostgreSQL) with
its real timestamps, and the outcome read back from the database, to compare with the backtest.

The play is the backtest's, step by step: each decision's signals with the same ids and the
same ``generated_at`` (one through ``POST /signals``, several through ``/signals/batch``), each
instant's bars with their own ``as_of``. A bar is posted only once every campaign has taken
the one before and carried out what it triggered: the workflow's state shows the bar, no order
of it is waiting for a fill, and the read model holds that version (the next decision reads
the portfolio from there). Otherwise the publisher could merge two bars into one, or a signal
could be decided against a portfolio that has not yet booked an exit: a different input."""

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.service import RPCError

from campaign_engine.backtest.parity import (
    CampaignOutcome,
    DecisionOutcome,
    FillOutcome,
    RunOutcome,
    label_of,
)
from campaign_engine.backtest.timeline import Decision, Timeline
from campaign_engine.db.schema import allocation_plans, broker_orders, campaigns, orders
from campaign_engine.domain.market import PriceUpdate
from campaign_engine.domain.orders import Fill
from tests.support.harness import Stack

V1 = "/api/v1"
POLL_SECONDS = 0.02
CATCH_UP_SECONDS = 30.0


class LivePlayError(AssertionError):
    """The live stack refused an input or a campaign did not keep up."""


@dataclass
class LivePlay:
    stack: Stack
    http: httpx.AsyncClient
    open: set[str] = field(default_factory=set)  # campaigns still to watch
    bars_posted: int = 0

    async def play(self, timeline: Timeline) -> None:
        for step in timeline.steps:
            if isinstance(step, Decision):
                await self.decide(step.signals)
            else:
                await self.post(step.updates)
                await self.caught_up(step.at)

    async def decide(self, signals: Iterable[Any]) -> None:
        bodies = [s.model_dump(mode="json") for s in signals]
        if len(bodies) == 1:
            response = await self.http.post(f"{V1}/signals", json=bodies[0])
        else:
            response = await self.http.post(f"{V1}/signals/batch", json=bodies)
        if response.status_code != httpx.codes.OK:
            raise LivePlayError(f"signals refused ({response.status_code}): {response.text}")
        answer = response.json()
        for plan in answer if isinstance(answer, list) else [answer]:
            if plan["approved"]:
                self.open.add(plan["campaign_id"])

    async def post(self, updates: Iterable[PriceUpdate]) -> None:
        body = [u.model_dump(mode="json", exclude_none=True) for u in updates]
        response = await self.http.post(f"{V1}/prices", json=body)
        if response.status_code != httpx.codes.ACCEPTED or response.json()["too_old"]:
            raise LivePlayError(f"bars refused ({response.status_code}): {response.text}")
        self.bars_posted += 1

    async def caught_up(self, at: datetime) -> None:
        """Until every campaign still open has taken the bars of ``at`` and carried them out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_SECONDS
        waiting = set(self.open)
        while waiting:
            for campaign_id in list(waiting):
                done, closed = await self._has_taken(campaign_id, at)
                if done:
                    waiting.discard(campaign_id)
                    if closed:
                        self.open.discard(campaign_id)
            if waiting and loop.time() > deadline:
                raise LivePlayError(
                    f"{sorted(waiting)} have not taken the bar of {at.isoformat()} within "
                    f"{CATCH_UP_SECONDS:.0f} s"
                )
            if waiting:
                await asyncio.sleep(POLL_SECONDS)

    async def _has_taken(self, campaign_id: str, at: datetime) -> tuple[bool, bool]:
        """(taken and carried out, closed)."""
        try:
            state = await self.stack.client.status(campaign_id)
        except RPCError:  # e.g. "no poller seen" on a loaded machine: ask again, until the deadline
            return False, False
        if state is None or state.open_order_ids:
            return False, False
        if not state.is_closed and (state.last_price_at is None or state.last_price_at < at):
            return False, False
        async with self.stack.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(campaigns.c.version, campaigns.c.closed_at).where(
                        campaigns.c.campaign_id == campaign_id
                    )
                )
            ).first()
        if row is None or row.version < state.version:
            return False, False
        if state.is_closed:
            return row.closed_at is not None, row.closed_at is not None
        return True, False


async def live_outcome(engine: AsyncEngine, labels: dict[Any, str]) -> RunOutcome:
    """The outcome as the live stack's database holds it: every plan, every fill the paper
    broker recorded, every campaign."""
    async with engine.connect() as conn:
        plan_rows = (await conn.execute(select(allocation_plans))).all()
        fill_rows = (
            await conn.execute(
                select(
                    orders.c.campaign_id,
                    orders.c.purpose,
                    orders.c.side,
                    broker_orders.c.fills,
                ).join(broker_orders, broker_orders.c.client_order_id == orders.c.client_order_id)
            )
        ).all()
        campaign_rows = (await conn.execute(select(campaigns))).all()
    decisions = {label_of(labels, r.signal_id): DecisionOutcome.of(r) for r in plan_rows}
    fills: dict[str, FillOutcome] = {}
    for r in fill_rows:
        recorded = json.loads(r.fills) if isinstance(r.fills, str) else r.fills
        for item in recorded:
            fill = Fill.model_validate(item)
            fills[fill.fill_id] = FillOutcome.of(fill, r)
    ended = {r.campaign_id: CampaignOutcome.of(r) for r in campaign_rows}
    return RunOutcome(decisions, fills, ended)
