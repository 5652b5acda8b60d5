"""Group commit: writes asked for while one is in progress go together in the next one.

A burst of prices flushes hundreds of symbols at once, and each flush must record what it is
about to send before it sends it (db/price_intake.py). One transaction each is hundreds of
transactions, each a few round trips and a fence check, on the loop that also sends. Here a
caller's write starts at once when none is running; the ones asked for meanwhile wait for it
and then go in one write together, so a burst costs a handful of transactions and a lone
write waits for nothing.

Each caller learns the outcome of the write that held its item: its error when that write
failed (the whole write failed: a transaction holds all of it or none). A caller that stops
waiting (cancelled) does not stop the write its item is in.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._queued: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.writes = 0  # how many writes ran (each of one or more items)

    async def submit(self, item: T) -> None:
        """Write ``item`` (with whatever else is waiting); return once it is written."""
        done = asyncio.get_running_loop().create_future()
        self._queued.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[None]]] = []
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    self.writes += 1
                    await self._write([item for item, _ in batch])
                except Exception as error:
                    _settle(batch, error)
                else:
                    _settle(batch, None)
                batch = []
        finally:  # cancelled (the process stops): nobody is left waiting for ever
            for _, done in batch + self._queued:
                done.cancel()
            self._queued = []


def _settle(batch: list[tuple[T, "asyncio.Future[None]"]], error: Exception | None) -> None:
    for _, done in batch:
        if done.done():  # its caller stopped waiting
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
