"""The faults of a run, drawn from the seed: each at a step of the play, carried out beside
the driver (which goes on sending, retrying what fails), and each logged with its time.

- worker: SIGKILL to the worker's process group, started again after 0.5-3 s;
- postgres: ``pg_ctl stop -m fast``, down for the outage, then started again;
- temporal: the dev server stopped with SIGTERM or SIGKILL, started again on its database
  file after 1-3 s;
- api: SIGKILL to the API right after it acknowledged a price batch (202), started again
  after 0.5-2 s: what it held of that batch only in memory is lost."""

import asyncio
import random
import signal
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bench.chaos.stack import Stack


@dataclass(frozen=True)
class FaultPlan:
    worker_kills: int
    pg_outages: int = 1
    pg_outage_seconds: float = 30.0
    temporal_restarts: int = 1
    api_kills: int = 1


@dataclass
class Faults:
    stack: Stack
    at_step: dict[int, list[str]]
    rng: random.Random
    outage: float
    log: list[str] = field(default_factory=list)
    injected: int = 0
    _armed: int = 0  # API kills waiting for the next acknowledged price batch
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def drawn(cls, stack: Stack, plan: FaultPlan, steps: int, seed: int) -> "Faults":
        rng = random.Random(seed)
        kinds = (
            ["worker"] * plan.worker_kills
            + ["postgres"] * plan.pg_outages
            + ["temporal"] * plan.temporal_restarts
            + ["api"] * plan.api_kills
        )
        at_step: dict[int, list[str]] = {}
        low, high = max(2, steps // 20), max(3, steps * 9 // 10)
        for kind in kinds:
            at_step.setdefault(rng.randint(low, high), []).append(kind)
        return cls(stack, at_step, rng, plan.pg_outage_seconds)

    @property
    def count(self) -> int:
        return self.injected

    def say(self, text: str) -> None:
        line = f"{self.stack.now():7.1f} s  {text}"
        self.log.append(line)
        print(line, flush=True)

    async def before_step(self, step: int) -> None:
        for kind in self.at_step.get(step, []):
            if kind == "api":
                self._armed += 1
            else:
                self._spawn(self._fault(kind, step))

    async def after_ack(self, step: int) -> None:
        while self._armed:
            self._armed -= 1
            self._spawn(self._fault("api", step))

    def _spawn(self, fault: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(fault)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _fault(self, kind: str, step: int) -> None:
        stack, rng = self.stack, self.rng
        self.injected += 1
        if kind == "worker":
            down = rng.uniform(0.5, 3.0)
            self.say(f"step {step}: worker killed (SIGKILL), back in {down:.1f} s")
            await stack.kill(stack.worker, down)
        elif kind == "api":
            down = rng.uniform(0.5, 2.0)
            self.say(f"step {step}: API killed (SIGKILL) after a 202, back in {down:.1f} s")
            await stack.kill(stack.api, down)
        elif kind == "postgres":
            self.say(f"step {step}: PostgreSQL stopped (pg_ctl stop -m fast), {self.outage:.0f} s")
            await asyncio.to_thread(stack.postgres.stop)
            await asyncio.sleep(self.outage)
            await asyncio.to_thread(stack.postgres.start)
            self.say("PostgreSQL started again")
        else:
            sig = rng.choice((signal.SIGTERM, signal.SIGKILL))
            down = rng.uniform(1.0, 3.0)
            self.say(f"step {step}: Temporal server stopped ({sig.name}), back in {down:.1f} s")
            await asyncio.to_thread(stack.temporal.child.stop, 20, sig)
            await asyncio.sleep(down)
            stack.temporal.start()  # from the main thread, so that it dies with this process
            await asyncio.to_thread(stack.temporal.wait_until_listening)
            self.say("Temporal server started again on its database file")

    async def finish(self) -> None:
        """Every fault over, and any API kill still armed carried out now."""
        await self.after_ack(-1)
        while self._running:
            await asyncio.gather(*list(self._running))

    def cancel(self) -> None:
        for task in self._running:
            task.cancel()
