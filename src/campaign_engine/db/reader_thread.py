"""Reads run on an event loop of their own, in a thread, with an engine of their own.

A process whose loop is busy (an API process delivering a burst of prices: hundreds of sends
ready at once) runs each ``await`` of a read behind every task ready then, so a read of four
queries waits four times over. A read that should not wait for the burst (the live stream's
marks) runs here instead: its awaits queue behind nothing, and the burst's CPU is the only
thing it shares."""

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from campaign_engine.db.engine import create_engine_for

T = TypeVar("T")


class ReaderThread:
    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: AsyncEngine | None = None  # made and used on the thread's loop only

    def _started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name=self._name, daemon=True
            )
            self._thread.start()
        return self._loop

    async def run(self, read: Callable[[AsyncEngine], Awaitable[T]]) -> T:
        """``read(engine)`` on the thread's loop; its answer (or its error) here."""
        done = asyncio.run_coroutine_threadsafe(self._read(read), self._started())
        return await asyncio.wrap_future(done)

    async def _read(self, read: Callable[[AsyncEngine], Awaitable[T]]) -> T:
        if self._engine is None:
            self._engine = create_engine_for(self._url, pool_size=1)
        return await read(self._engine)

    async def close(self) -> None:
        """Its connections closed, its loop and thread ended."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(engine.dispose(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()
