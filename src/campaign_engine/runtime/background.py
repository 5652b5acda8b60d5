"""A loop that runs beside its owner while the owner is entered (``async with``): the event hub
of an API process, the holdings reconciler and the outbox relay beside a worker, a broker's
trade-updates listener. Entering starts it; leaving stops it and waits until it has stopped."""

import asyncio
import contextlib
from types import TracebackType
from typing import ClassVar, Self


class BackgroundLoop:
    """Subclasses give ``_run``, the loop itself (it handles its own errors: one that escapes
    ends the loop, and is raised again on leaving), and sleep between passes with ``_pause``.

    Leaving cancels the loop, unless ``finishes_pass`` is set: then the pass in hand finishes
    (the loop sees ``stopping`` and ends at its next pause), and only cancelling the leaving
    itself cancels it."""

    finishes_pass: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self._loop_name = name
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def _run(self) -> None:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        """The owner is leaving: the loop should end."""
        return self._stopping.is_set()

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` between passes, or until the owner leaves."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def __aenter__(self) -> Self:
        if self._task is not None:
            raise RuntimeError(f"{self._loop_name} is already running")
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self._loop_name)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        if self.finishes_pass:
            await task
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
