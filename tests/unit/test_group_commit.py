"""Group commit: a lone write starts at once, the writes asked for meanwhile go together in
the next one, a failed write fails exactly its own callers, and a caller that stops waiting
does not stop the write its item is in."""

import asyncio

import pytest

from campaign_engine.runtime.group_commit import GroupCommit


class Writer:
    """Records each write's items; holds a write open while ``gate`` is clear."""

    def __init__(self) -> None:
        self.writes: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()

    async def __call__(self, items: list[str]) -> None:
        self.writes.append(items)
        self.started.set()
        await self.gate.wait()
        if "bad" in items:
            raise ValueError("the transaction failed")


async def test_a_lone_write_starts_at_once() -> None:
    writer = Writer()
    commit = GroupCommit(writer)
    await commit.submit("a")
    await commit.submit("b")
    assert writer.writes == [["a"], ["b"]]
    assert commit.writes == 2


async def test_the_writes_asked_for_during_one_go_together_in_the_next() -> None:
    writer = Writer()
    writer.gate.clear()
    commit = GroupCommit(writer)
    first = asyncio.create_task(commit.submit("a"))
    await writer.started.wait()
    rest = [asyncio.create_task(commit.submit(item)) for item in ("b", "c", "d")]
    await asyncio.sleep(0.01)
    assert writer.writes == [["a"]]  # b, c and d wait for a's write
    writer.gate.set()
    await asyncio.gather(first, *rest)
    assert writer.writes == [["a"], ["b", "c", "d"]]


async def test_a_failed_write_fails_its_own_callers_and_the_next_goes_on() -> None:
    writer = Writer()
    writer.gate.clear()
    commit = GroupCommit(writer)
    first = asyncio.create_task(commit.submit("a"))
    await writer.started.wait()
    together = [asyncio.create_task(commit.submit(item)) for item in ("b", "bad")]
    writer.gate.set()
    await first
    for waiting in together:
        with pytest.raises(ValueError, match="transaction failed"):
            await waiting
    await commit.submit("c")
    assert writer.writes == [["a"], ["b", "bad"], ["c"]]


async def test_a_caller_that_stops_waiting_does_not_stop_the_write() -> None:
    writer = Writer()
    writer.gate.clear()
    commit = GroupCommit(writer)
    waiting = asyncio.create_task(commit.submit("a"))
    await writer.started.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    writer.gate.set()
    await commit.submit("b")
    assert writer.writes == [["a"], ["b"]]
