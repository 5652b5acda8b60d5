"""A loop that runs beside its owner while the owner is entered (``async with``): the event hub
of an API process, the holdings reconciler beside a worker, a broker's trade-updates listener.
Entering starts it; leaving cancels it and waits until it has stopped."""

import asyncio
import contextlib
from types import TracebackType
from typing import Self


class BackgroundLoop:
    """Subclasses give ``_run``, the loop itself (it handles its own errors: one that escapes
    ends the loop, and is raised again on leaving)."""

    def __init__(self, name: str) -> None:
        self._loop_name = name
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        if self._task is not None:
            raise RuntimeError(f"{self._loop_name} is already running")
        self._task = asyncio.create_task(self._run(), name=self._loop_name)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
