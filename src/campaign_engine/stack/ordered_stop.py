"""Stopping the parts of a stack in the reverse order of their start, each within a bound of
its own, each logged with its duration and how it ended.

A part still busy when its bound is up is left running and the stop goes on: what stops after
it (the server it talks to) ends it anyway. Past the sum of the bounds something ignored even
that, and the process leaves at once (its children die with it, see ``subprocesses``).
"""

import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from rich.console import Console

log = structlog.get_logger("campaign_engine.ordered_stop")


@dataclass(frozen=True)
class Stage:
    name: str
    stop: Callable[[], Awaitable[object]]
    bound: float  # seconds


class OrderedStop:
    """Stages are added as their parts start (``add``) and stopped last first (``run``), but
    for those added ``last``: stopped after every other (the database everything writes to)."""

    def __init__(self, console: Console, *, hard_deadline: float) -> None:
        self._console = console
        self._hard_deadline = hard_deadline
        self._stages: list[Stage] = []
        self._last: list[Stage] = []
        self.left_running: list[str] = []

    def add(
        self, name: str, stop: Callable[[], Awaitable[object]], bound: float, *, last: bool = False
    ) -> None:
        (self._last if last else self._stages).append(Stage(name, stop, bound))

    @property
    def bound(self) -> float:
        return sum(stage.bound for stage in self._stages + self._last)

    async def run(self) -> float:
        """Stop every stage; answers the seconds it took."""
        started = time.monotonic()
        guard = threading.Timer(self._hard_deadline, _give_up, (self._hard_deadline,))
        guard.daemon = True
        guard.start()
        try:
            for stages in (self._stages, self._last):
                while stages:
                    await self._stop(stages.pop())
        finally:
            guard.cancel()
        took = time.monotonic() - started
        log.info("dev_stack_stopped", seconds=round(took, 2), left_running=self.left_running)
        return took

    async def _stop(self, stage: Stage) -> None:
        started = time.monotonic()
        stopping = asyncio.ensure_future(stage.stop())
        done, _ = await asyncio.wait({stopping}, timeout=stage.bound)
        if stopping not in done:
            stopping.cancel()
            self.left_running.append(stage.name)
            ended = f"still busy after {stage.bound:g} s, left running"
        elif stopping.cancelled():
            ended = "cancelled"
        elif (error := stopping.exception()) is not None:
            ended = f"failed: {error!r}"
        else:
            result = stopping.result()
            ended = result if isinstance(result, str) else "stopped"
        took = time.monotonic() - started
        self._console.print(f"  {stage.name}: {ended} ({took:.1f} s)")
        log.info("dev_stack_stage_stopped", stage=stage.name, ended=ended, seconds=round(took, 2))


def _give_up(deadline: float) -> None:
    sys.stderr.write(f"\nthe stop took more than {deadline:g} s: leaving now\n")
    sys.stderr.flush()
    os._exit(1)
