"""The one way a loop retries what failed: a capped, jittered exponential backoff, and a log
that speaks once when an outage starts and once when it ends.

    retry = Retry("database", log, loop="outbox_relay")
    while True:
        try:
            await work()
        except OSError as error:
            await retry.pause(error)  # logs "dependency_down" on the first failure only
            continue
        retry.succeeded()  # logs "dependency_recovered" (how long, how many attempts) once

Jitter spreads the retries of many processes that lost the same dependency at the same moment,
so that they do not all come back at once. ``full``: uniform in [0, d] with d the capped
exponential delay. ``decorrelated``: uniform in [start, 3 x the previous delay], capped.
"""

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

Jitter = Literal["full", "decorrelated", "none"]


class Backoff:
    def __init__(
        self,
        *,
        start: float = 0.25,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: Jitter = "full",
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < start <= cap or factor < 1:
            raise ValueError(f"need 0 < start <= cap and factor >= 1, got {start}, {cap}, {factor}")
        self.start, self.factor, self.cap, self.jitter = start, factor, cap, jitter
        self._rng = rng or random.Random()  # noqa: S311 - spreading retries, not secrets
        self.attempts = 0  # failures since the last success
        self._previous = start

    def ceiling(self) -> float:
        """The capped exponential delay of the next attempt, before jitter."""
        try:
            grown = self.start * self.factor**self.attempts
        except OverflowError:
            # A float power overflows past about a thousand failures (hours of an outage at a
            # capped delay); the loop that retries must not end on it.
            return self.cap
        return min(self.cap, grown)

    def next(self) -> float:
        """The delay before the next attempt; counts one failure."""
        match self.jitter:
            case "full":
                delay = self._rng.uniform(0, self.ceiling())
            case "decorrelated":
                delay = min(self.cap, self._rng.uniform(self.start, self._previous * 3))
            case "none":
                delay = self.ceiling()
        self.attempts += 1
        self._previous = delay
        return delay

    def reset(self) -> None:
        """A success: the next failure starts from ``start`` again."""
        self.attempts = 0
        self._previous = self.start


class Logger(Protocol):
    def warning(self, event: str, **fields: Any) -> Any: ...
    def info(self, event: str, **fields: Any) -> Any: ...


class Retry:
    """A ``Backoff`` with the log of one dependency: ``dependency_down`` (what, the error) when
    the first attempt fails, ``dependency_recovered`` (what, how long, how many attempts) when
    one succeeds again, nothing in between."""

    def __init__(
        self,
        what: str,
        log: Logger,
        *,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        **fields: Any,
    ) -> None:
        self.what = what
        self.backoff = backoff or Backoff()
        self._log = log
        self._fields = fields
        self._clock = clock
        self._down_since: float | None = None
        self._failures = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def failed(self, error: BaseException) -> float:
        """Count a failure; the delay before the next attempt."""
        self._failures += 1
        if self._down_since is None:
            self._down_since = self._clock()
            self._log.warning(
                "dependency_down", what=self.what, error=_describe(error), **self._fields
            )
        return self.backoff.next()

    async def pause(self, error: BaseException) -> None:
        await asyncio.sleep(self.failed(error))

    def succeeded(self) -> None:
        if self._down_since is not None:
            self._log.info(
                "dependency_recovered",
                what=self.what,
                down_for_s=round(self._clock() - self._down_since, 3),
                attempts=self._failures + 1,
                **self._fields,
            )
        self._down_since = None
        self._failures = 0
        self.backoff.reset()


def _describe(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
